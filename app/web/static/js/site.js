// Every page: the light/dark toggle (a plain toggle button; the system setting applies until it is used).
(function () {
  "use strict";
  var root = document.documentElement;
  var button = document.querySelector(".theme-toggle");
  if (!button) return;
  var media = window.matchMedia("(prefers-color-scheme: dark)");
  function effective() {
    var chosen = root.getAttribute("data-theme");
    if (chosen === "light" || chosen === "dark") return chosen;
    return media.matches ? "dark" : "light";
  }
  function update() { button.setAttribute("aria-pressed", String(effective() === "dark")); }
  button.hidden = false;
  button.addEventListener("click", function () {
    var next = effective() === "dark" ? "light" : "dark";
    root.setAttribute("data-theme", next);
    try { window.localStorage.setItem("glossary-theme", next); } catch (e) { /* not remembered */ }
    update();
  });
  media.addEventListener("change", update);
  update();
})();
