// Keyboard for review queues: j/k move between rows, a approves, d writes a dismissal.
(function () {
  function rows() { return Array.from(document.querySelectorAll("tr.finding-row")); }
  function current() { return document.activeElement.closest ? document.activeElement.closest("tr.finding-row") : null; }
  document.addEventListener("keydown", function (event) {
    if (["INPUT", "SELECT", "TEXTAREA"].includes(event.target.tagName) || event.metaKey || event.ctrlKey) return;
    const all = rows();
    if (!all.length) return;
    const here = current();
    const index = here ? all.indexOf(here) : -1;
    if (event.key === "j" || event.key === "k") {
      const next = all[Math.min(all.length - 1, Math.max(0, index + (event.key === "j" ? 1 : -1)))];
      next.focus();
      event.preventDefault();
    } else if (here && (event.key === "a" || event.key === "d")) {
      const target = here.querySelector('[data-key="' + event.key + '"]');
      if (target) { event.key === "a" ? target.click() : target.focus(); event.preventDefault(); }
    }
  });
})();
