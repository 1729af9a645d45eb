// The A–Z list: filter as you type (the server renders every term; this only shows and hides them).
(function () {
  "use strict";
  var form = document.querySelector("[data-filter]");
  if (!form) return;
  var q = form.querySelector("input[name=q]");
  var domain = form.querySelector("select[name=domain]");
  var status = form.querySelector("select[name=status]");
  var count = document.querySelector("[data-count]");
  var total = parseInt(count.getAttribute("data-total"), 10) || 0;
  var empty = document.querySelector("[data-no-results]");
  var emptyQuery = empty.querySelector("[data-no-results-q]");
  var suggest = empty.querySelector("[data-suggest]");
  var suggestList = empty.querySelector("[data-suggest-list]");
  var askLink = empty.querySelector("[data-ask-link]");
  var items = Array.prototype.slice.call(document.querySelectorAll(".term-item"));
  var groups = Array.prototype.slice.call(document.querySelectorAll(".letter-group"));
  var submit = form.querySelector(".filter-submit");
  var suggestTimer = null;
  var suggestSeq = 0;

  // The same folding as the server's normalize(): accents off, lower case, punctuation to spaces.
  function normalize(text) {
    return text.normalize("NFKD").replace(/[\u0300-\u036f]/g, "").toLowerCase()
      .replace(/[^a-z0-9&]+/g, " ").trim();
  }

  function update() {
    var needle = normalize(q.value);
    var d = domain.value;
    var s = status.value;
    var shown = 0;
    items.forEach(function (item) {
      var visible = (!needle || item.getAttribute("data-search").indexOf(needle) !== -1) &&
        (!d || item.getAttribute("data-domain") === d) && (!s || item.getAttribute("data-status") === s);
      item.hidden = !visible;
      if (visible) shown += 1;
    });
    groups.forEach(function (group) {
      var visible = group.querySelector(".term-item:not([hidden])") !== null;
      group.hidden = !visible;
      var jump = document.querySelector(".letters a[data-letter='" + group.getAttribute("data-group") + "']");
      if (jump) {
        if (visible) { jump.removeAttribute("data-empty"); jump.removeAttribute("tabindex"); }
        else { jump.setAttribute("data-empty", ""); jump.setAttribute("tabindex", "-1"); }
      }
    });
    count.textContent = shown === total ? "Showing all " + total + " terms" : "Showing " + shown + " of " + total + " terms";
    empty.hidden = shown !== 0;
    if (emptyQuery) emptyQuery.textContent = q.value;
    askLink.href = "/?q=" + encodeURIComponent(q.value);
    var params = new URLSearchParams();
    if (q.value) params.set("q", q.value);
    if (d) params.set("domain", d);
    if (s) params.set("status", s);
    var query = params.toString();
    window.history.replaceState(null, "", window.location.pathname + (query ? "?" + query : ""));
    window.clearTimeout(suggestTimer);
    suggest.hidden = true;
    if (shown === 0 && needle) suggestTimer = window.setTimeout(function () { suggestFor(q.value); }, 250);
  }

  // Nothing contains the words: ask the search API for the nearest terms (spelling slips, descriptions).
  function suggestFor(text) {
    var seq = ++suggestSeq;
    window.fetch("/api/search?limit=3&q=" + encodeURIComponent(text)).then(function (r) {
      return r.ok ? r.json() : null;
    }).then(function (data) {
      if (seq !== suggestSeq || !data || !data.results || !data.results.length) return;
      suggestList.textContent = "";
      data.results.forEach(function (hit, i) {
        if (i) suggestList.appendChild(document.createTextNode(", "));
        var a = document.createElement("a");
        a.href = hit.url;
        a.textContent = hit.term;
        suggestList.appendChild(a);
      });
      suggest.hidden = false;
    }).catch(function () { /* suggestions are a bonus */ });
  }

  if (submit) submit.hidden = true;
  form.addEventListener("submit", function (event) { event.preventDefault(); update(); });
  q.addEventListener("input", update);
  domain.addEventListener("change", update);
  status.addEventListener("change", update);
  q.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && q.value) { q.value = ""; update(); }
  });
})();
