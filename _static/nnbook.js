// The book's own small page script. Jupyter Book adds every .js in _static/
// to every page: keep this folder small, never put vendored files here.

// Display math wider than its column scrolls sideways (the theme's CSS). A
// reader on the keyboard must be able to focus such a formula to scroll it
// (WCAG 2.1.1; axe-core: scrollable-region-focusable), so formulas that
// overflow at the current width get tabindex=0, and lose it when they fit.
document.addEventListener("DOMContentLoaded", function () {
  var startup = window.MathJax && window.MathJax.startup;
  if (!startup || !startup.promise) return;
  function markScrollable() {
    document.querySelectorAll('mjx-container[display="true"]').forEach(function (math) {
      if (math.scrollWidth > math.clientWidth + 1) math.setAttribute("tabindex", "0");
      else math.removeAttribute("tabindex");
    });
  }
  startup.promise.then(markScrollable);
  var pending;
  window.addEventListener("resize", function () {
    clearTimeout(pending);
    pending = setTimeout(markScrollable, 150);
  });
});
