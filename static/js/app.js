// Small behaviours declared in the markup with data- attributes, so pages carry no inline
// script or event handler (the Content-Security-Policy refuses them). Listeners sit on the
// document, so content htmx swaps in later works too.
(function () {
  "use strict";

  // On a phone the header's sections are one row that scrolls sideways: bring the page's
  // own section into view (Notices or Staff would otherwise start off the screen).
  document.addEventListener("DOMContentLoaded", function () {
    var current = document.querySelector(".nav-sections [aria-current=page]");
    var row = current && current.closest(".nav-sections");
    if (row && row.scrollWidth > row.clientWidth) {
      row.scrollLeft = current.offsetLeft - (row.clientWidth - current.offsetWidth) / 2;
    }
  });

  // <select data-autosubmit>: choosing an option sends its form.
  document.addEventListener("change", function (event) {
    var select = event.target.closest && event.target.closest("select[data-autosubmit]");
    if (select && select.form) {
      select.form.requestSubmit ? select.form.requestSubmit() : select.form.submit();
    }
  });

  // <form data-confirm="question">: sent only if the person confirms.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.matches && form.matches("form[data-confirm]") && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);

  // <input data-select-on-focus>: focusing selects the whole value (links to copy).
  document.addEventListener("focusin", function (event) {
    if (event.target.matches && event.target.matches("input[data-select-on-focus]")) {
      event.target.select();
    }
  });

  // <button data-copy="input-id">: copies that input's value.
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("button[data-copy]");
    if (!button) return;
    var source = document.getElementById(button.dataset.copy);
    if (source && navigator.clipboard) {
      navigator.clipboard.writeText(source.value).then(function () {
        button.textContent = "Copied";
      });
    }
  });
})();
