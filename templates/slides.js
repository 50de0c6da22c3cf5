(function () {
  "use strict";
  var slides = Array.prototype.slice.call(document.querySelectorAll("section.slide"));
  var counter = document.getElementById("counter");
  var current = 0;
  function show(i) {
    if (!slides.length) { return; }
    current = Math.max(0, Math.min(slides.length - 1, i));
    slides.forEach(function (s, k) {
      s.classList.toggle("active", k === current);
      s.setAttribute("aria-hidden", k === current ? "false" : "true");
    });
    if (counter) { counter.textContent = (current + 1) + " / " + slides.length; }
    if (location.hash !== "#" + (current + 1)) { history.replaceState(null, "", "#" + (current + 1)); }
  }
  document.addEventListener("keydown", function (e) {
    if (e.altKey || e.ctrlKey || e.metaKey) { return; }
    var k = e.key;
    if (k === "ArrowRight" || k === "PageDown" || k === " " || k === "Enter" || k === "ArrowDown") { show(current + 1); }
    else if (k === "ArrowLeft" || k === "PageUp" || k === "Backspace" || k === "ArrowUp") { show(current - 1); }
    else if (k === "Home") { show(0); }
    else if (k === "End") { show(slides.length - 1); }
    else { return; }
    e.preventDefault();
  });
  document.getElementById("prev").addEventListener("click", function () { show(current - 1); });
  document.getElementById("next").addEventListener("click", function () { show(current + 1); });
  window.addEventListener("hashchange", function () { show((parseInt(location.hash.slice(1), 10) || 1) - 1); });
  window.deck = { count: slides.length, show: show, current: function () { return current; } };
  show((parseInt(location.hash.slice(1), 10) || 1) - 1);
})();
