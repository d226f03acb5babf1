// Keyboard for the review queues: j/k move between items, a approves, d writes a dismissal
// (Enter sends it), x ticks an item for a bulk decision. After a decision the next item
// still waiting takes the focus, so a queue can be worked through without the mouse.
(function () {
  function items() { return Array.from(document.querySelectorAll(".queue-item")); }
  function itemOf(el) { return el && el.closest ? el.closest(".queue-item") : null; }
  let lastDecided = null;

  document.addEventListener("keydown", function (event) {
    if (event.metaKey || event.ctrlKey || event.altKey) return;
    const typing = ["INPUT", "SELECT", "TEXTAREA"].includes(event.target.tagName) && event.target.type !== "checkbox";
    if (typing) {
      if (event.key === "Escape") { const item = itemOf(event.target); if (item) item.focus(); }
      return;
    }
    const all = items();
    if (!all.length) return;
    const here = itemOf(document.activeElement);
    const index = here ? all.indexOf(here) : -1;
    if (event.key === "j" || event.key === "k") {
      const step = event.key === "j" ? 1 : -1;
      const next = all[Math.min(all.length - 1, Math.max(0, index + step))];
      next.focus();
      next.scrollIntoView({ block: "nearest" });
      event.preventDefault();
    } else if (here && ["a", "d", "x"].includes(event.key)) {
      const target = here.querySelector('[data-key="' + event.key + '"]');
      if (!target) return;
      event.preventDefault();
      if (event.key === "d") target.focus(); else target.click();
    }
  });

  // Remember which item was decided, then focus the next one still waiting once it is swapped.
  // Opening a fix's preview (a GET) or asking the contractor decides nothing: the focus stays.
  document.addEventListener("htmx:beforeRequest", function (event) {
    const verb = event.detail && event.detail.requestConfig ? event.detail.requestConfig.verb : "";
    if (verb === "get" || event.target.closest("[data-not-a-decision]")) { lastDecided = null; return; }
    const item = itemOf(event.target);
    lastDecided = item ? item.id : null;
  });
  document.addEventListener("htmx:afterRequest", function () {
    if (lastDecided) window.setTimeout(focusNextWaiting, 60);  // after the out-of-band swap settles
  });
  function focusNextWaiting() {
    if (!lastDecided) return;
    const all = items();
    const at = all.findIndex(function (el) { return el.id === lastDecided; });
    lastDecided = null;
    const next = all.slice(at + 1).find(function (el) { return !el.classList.contains("decided"); });
    if (next) next.focus({ preventScroll: false });
  }

  // What a bulk decision did is said above the queue: bring it into view from wherever the
  // ticking left the page.
  document.addEventListener("htmx:oobAfterSwap", function (event) {
    const target = event.detail && event.detail.target;
    if (target && target.id === "bulk-outcome" && target.textContent.trim()) {
      target.scrollIntoView({ block: "nearest" });
    }
  });

  // "All on this page" ticks every item still waiting.
  document.addEventListener("change", function (event) {
    if (event.target.id !== "pick-all") return;
    document.querySelectorAll(".queue-item input.pick").forEach(function (box) { box.checked = event.target.checked; });
  });
})();
