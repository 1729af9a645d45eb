// Runs before first paint: apply the reader's saved light/dark choice (pages only; the widget is told by its host).
(function () {
  var root = document.documentElement;
  if (root.hasAttribute("data-widget")) return;
  try {
    var saved = window.localStorage.getItem("glossary-theme");
    if (saved === "light" || saved === "dark") root.setAttribute("data-theme", saved);
  } catch (e) { /* storage may be blocked; the system setting applies */ }
})();
