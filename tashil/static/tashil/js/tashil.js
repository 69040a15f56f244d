// Behaviour every page shares that would otherwise be written inline, which
// the Content-Security-Policy forbids (no inline scripts, handlers or styles):
//   <form data-confirm="question">  asks before the form is sent
//   <div data-progress="42">        a progress bar's width, in percent
// Both also work on content htmx swaps in later.
(function () {
  "use strict";

  // Capture phase: a refused confirmation stops the submit before htmx sees it.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form && form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
      event.stopPropagation();
    }
  }, true);

  // Setting element.style from a script is not an inline style: CSP allows it.
  function widths(root) {
    if (!root || !root.querySelectorAll) return;
    var bars = Array.prototype.slice.call(root.querySelectorAll("[data-progress]"));
    if (root.matches && root.matches("[data-progress]")) bars.push(root);
    bars.forEach(function (bar) {
      var value = Math.max(0, Math.min(100, Number(bar.getAttribute("data-progress")) || 0));
      bar.style.width = value + "%";
    });
  }

  widths(document);
  document.addEventListener("htmx:load", function (event) { widths(event.target); });
})();
