(function () {
  "use strict";
  var slides = Array.prototype.slice.call(document.querySelectorAll(".deck > section.slide"));
  var counter = document.getElementById("counter");
  var presenter = document.getElementById("presenter");
  var pNotes = document.getElementById("p-notes");
  var pNext = document.getElementById("p-next-frame");
  var pTime = document.getElementById("p-time");
  var pCount = document.getElementById("p-count");
  var current = 0;
  var started = null;
  function two(n) { return (n < 10 ? "0" : "") + n; }
  function tick() {
    if (!pTime || started === null) { return; }
    var s = Math.floor((Date.now() - started) / 1000);
    pTime.textContent = (s >= 3600 ? Math.floor(s / 3600) + ":" : "") + two(Math.floor(s / 60) % 60) + ":" + two(s % 60);
  }
  // The presenter panel: notes of the current slide, a scaled copy of the next one, the clock.
  function fillPresenter() {
    if (!presenter || presenter.hidden) { return; }
    var notes = slides[current].querySelector("aside.notes");
    pNotes.innerHTML = notes && notes.innerHTML.trim() ? notes.innerHTML : "<p><em>No notes for this slide.</em></p>";
    pNext.innerHTML = "";
    if (current + 1 < slides.length) {
      var copy = slides[current + 1].cloneNode(true);
      copy.removeAttribute("id");
      copy.classList.add("active");
      copy.style.transform = "scale(" + (pNext.clientWidth / 1280) + ")";
      pNext.appendChild(copy);
    } else {
      pNext.innerHTML = "<p style=\"padding:1em;color:#59636e\">End of the deck.</p>";
    }
    pCount.textContent = "slide " + (current + 1) + " of " + slides.length;
  }
  function togglePresenter() {
    if (!presenter) { return; }
    presenter.hidden = !presenter.hidden;
    document.body.classList.toggle("presenter", !presenter.hidden);
    if (!presenter.hidden && started === null) { started = Date.now(); }
    tick();
    fillPresenter();
  }
  // Printing with notes: each page is the slide with its notes under it (a taller page).
  var noteStyle = null;
  function setPrintNotes(on) {
    document.body.classList.toggle("print-notes", on);
    if (on && !noteStyle) {
      noteStyle = document.createElement("style");
      noteStyle.textContent = "@page { size: 1280px 1120px; margin: 0; }";
      document.head.appendChild(noteStyle);
    } else if (!on && noteStyle) {
      noteStyle.remove();
      noteStyle = null;
    }
  }
  function show(i) {
    if (!slides.length) { return; }
    current = Math.max(0, Math.min(slides.length - 1, i));
    slides.forEach(function (s, k) {
      s.classList.toggle("active", k === current);
      s.setAttribute("aria-hidden", k === current ? "false" : "true");
    });
    if (counter) { counter.textContent = (current + 1) + " / " + slides.length; }
    if (location.hash !== "#" + (current + 1)) { history.replaceState(null, "", location.pathname + location.search + "#" + (current + 1)); }
    fillPresenter();
  }
  document.addEventListener("keydown", function (e) {
    if (e.altKey || e.ctrlKey || e.metaKey) { return; }
    var k = e.key;
    if (k === "ArrowRight" || k === "PageDown" || k === " " || k === "Enter" || k === "ArrowDown") { show(current + 1); }
    else if (k === "ArrowLeft" || k === "PageUp" || k === "Backspace" || k === "ArrowUp") { show(current - 1); }
    else if (k === "Home") { show(0); }
    else if (k === "End") { show(slides.length - 1); }
    else if (k === "p" || k === "P") { togglePresenter(); }
    else if (k === "t" || k === "T") { started = Date.now(); tick(); }
    else if (k === "n" || k === "N") { setPrintNotes(!document.body.classList.contains("print-notes")); }
    else { return; }
    e.preventDefault();
  });
  document.getElementById("prev").addEventListener("click", function () { show(current - 1); });
  document.getElementById("next").addEventListener("click", function () { show(current + 1); });
  window.addEventListener("hashchange", function () { show((parseInt(location.hash.slice(1), 10) || 1) - 1); });
  window.addEventListener("resize", fillPresenter);
  setInterval(tick, 1000);
  if (/(^|[?&])notes(=|&|$)/.test(location.search.slice(1))) { setPrintNotes(true); }
  window.deck = {
    count: slides.length, show: show, current: function () { return current; },
    presenter: function () { return !!presenter && !presenter.hidden; }
  };
  show((parseInt(location.hash.slice(1), 10) || 1) - 1);
})();
