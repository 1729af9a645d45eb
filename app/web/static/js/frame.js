// Inside the widget's frame: talk to widget.js in the host page, and only to it.
// The host's origin was checked by the server (frame-ancestors names only that origin), so
// messages go to exactly that origin and only messages from it are read.
(function () {
  "use strict";
  var root = document.documentElement;
  var parentOrigin = root.getAttribute("data-parent-origin") || "";
  var refused = root.hasAttribute("data-refused");
  var framed = window.parent !== window;

  function post(message) {
    if (!framed || !parentOrigin) return;
    message.source = "glossary-widget";
    window.parent.postMessage(message, parentOrigin);
  }

  // The host's brand colour, validated by the server; text on it is black or white, whichever reads better.
  var accent = root.getAttribute("data-accent");
  if (accent && /^#(?:[0-9a-fA-F]{3}){1,2}$/.test(accent)) {
    var hex = accent.length === 4 ? accent.replace(/[0-9a-f]/gi, "$&$&").slice(1) : accent.slice(1);
    var channel = function (i) {
      var c = parseInt(hex.substr(i, 2), 16) / 255;
      return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
    };
    var luminance = 0.2126 * channel(0) + 0.7152 * channel(2) + 0.0722 * channel(4);
    var contrast = luminance > 0.36 ? "#10151c" : "#ffffff";
    root.style.setProperty("--widget-accent", accent);
    root.style.setProperty("--widget-accent-contrast", contrast);
    if (!refused) {
      root.style.setProperty("--accent", accent);
      root.style.setProperty("--accent-hover", accent);
      root.style.setProperty("--accent-contrast", contrast);
    }
  }

  document.querySelectorAll(".panel-close").forEach(function (button) {
    button.addEventListener("click", function () { post({ type: "glossary:close" }); });
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && !event.defaultPrevented) post({ type: "glossary:close" });
  });

  function spot(id, texts) {
    if (refused) {
      post({ type: "glossary:spots", id: id, error: "refused" });
      return;
    }
    window.fetch("/widget/api/spot", {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ texts: texts, audience: root.getAttribute("data-audience") || null })
    }).then(function (r) {
      if (!r.ok) throw new Error("status " + r.status);
      return r.json();
    }).then(function (data) {
      post({ type: "glossary:spots", id: id, spots: data.spots, terms: data.terms });
    }).catch(function (error) {
      post({ type: "glossary:spots", id: id, error: String(error && error.message || error) });
    });
  }

  window.addEventListener("message", function (event) {
    if (event.origin !== parentOrigin || event.source !== window.parent) return;
    var message = event.data;
    if (!message || message.source !== "glossary-host" || typeof message.type !== "string") return;
    var chat = window.GlossaryChat;
    if (message.type === "glossary:open") {
      if (chat) chat.focus();
      else { var close = document.querySelector(".panel-close"); if (close) close.focus(); }
    } else if (message.type === "glossary:closed") {
      if (chat) chat.flush();
    } else if (message.type === "glossary:ask" && typeof message.question === "string") {
      if (chat) chat.ask(message.question.slice(0, 500));
    } else if (message.type === "glossary:spot" && Array.isArray(message.texts)) {
      spot(message.id, message.texts.filter(function (t) { return typeof t === "string"; }));
    }
  });

  post({ type: "glossary:ready", allowed: !refused });
})();
