/*! Glossary assistant widget. One tag on the host page:
 *   <script src="https://<service>/widget.js" data-audience="procurement" async></script>
 * Options (all optional): data-audience (procurement | it | both), data-position (bottom-right | bottom-left),
 * data-accent (#rgb or #rrggbb), data-theme (auto | light | dark), data-title, data-label, data-open,
 * data-annotate (CSS selector for define-on-hover), data-z-index.
 *
 * Isolation: the launcher and hover cards live in a shadow root (styles from a constructed stylesheet);
 * the chat panel is an iframe served by the glossary service, so host CSS and scripts cannot reach it
 * and the browser enforces which hosts may embed it (frame-ancestors). DOM is built with textContent only.
 */
(function () {
  "use strict";

  if (window.GlossaryWidget) return; // one widget per page, even if the tag appears twice

  var script = document.currentScript || document.querySelector("script[src*='/widget.js']");
  if (!script || !script.src) return;

  var src = new URL(script.src, window.location.href);
  var base = src.href.replace(/\/widget\.js(?:[?#].*)?$/, "");
  var serviceOrigin = src.origin;
  var data = script.dataset;

  function oneOf(value, allowed, fallback) {
    return allowed.indexOf(value) !== -1 ? value : fallback;
  }
  function flag(value) {
    return value === "" || value === "true" || value === "1" || value === "open";
  }

  var options = {
    audience: oneOf(data.audience, ["procurement", "it", "both"], "both"),
    position: oneOf(data.position, ["bottom-right", "bottom-left"], "bottom-right"),
    accent: /^#(?:[0-9a-fA-F]{3}){1,2}$/.test(data.accent || "") ? data.accent : "#1f5fbf",
    theme: oneOf(data.theme, ["auto", "light", "dark"], "auto"),
    title: (data.title || "Glossary assistant").trim().slice(0, 60) || "Glossary assistant",
    label: (data.label || "Ask the glossary").trim().slice(0, 40) || "Ask the glossary",
    open: flag(data.open),
    annotate: (data.annotate || "").trim(),
    zIndex: Math.min(Math.max(parseInt(data.zIndex, 10) || 2147483000, 1), 2147483647)
  };

  // Bounds for define-on-hover, so a huge page costs little.
  var MAX_NODES = 4000;
  var MAX_CHARS = 60000;
  var BATCH_CHARS = 12000;
  var MAX_BATCHES = 5;
  var MAX_MARKS = 150;
  var READY_TIMEOUT_MS = 10000;
  var SPOT_TIMEOUT_MS = 10000;
  var SKIP_TAGS = /^(A|AREA|AUDIO|BUTTON|CANVAS|CODE|DATALIST|DIALOG|EMBED|H1|H2|H3|H4|H5|H6|IFRAME|INPUT|KBD|LABEL|MAP|MATH|METER|NOSCRIPT|OBJECT|OPTION|OUTPUT|PRE|PROGRESS|SAMP|SCRIPT|SELECT|STYLE|SVG|TEMPLATE|TEXTAREA|TT|VAR|VIDEO|GLOSSARY-WIDGET)$/;

  var CSS = [
    ":host { all: initial; }",
    ".gw { --gw-accent: #1f5fbf; --gw-on-accent: #fff; --gw-bg: #fff; --gw-text: #1b1f24; --gw-muted: #596270;",
    "  --gw-border: #d8dde4; --gw-link: #1a56b0; --gw-shadow: 0 8px 30px rgba(16,24,40,.18), 0 2px 6px rgba(16,24,40,.1);",
    "  font: 15px/1.5 'Segoe UI', Roboto, 'Helvetica Neue', Arial, 'Liberation Sans', system-ui, sans-serif; color: var(--gw-text); }",
    ".gw.dark { --gw-bg: #161a21; --gw-text: #e6e9ee; --gw-muted: #a2acb9; --gw-border: #2c333d; --gw-link: #8ab6ff;",
    "  --gw-shadow: 0 8px 30px rgba(0,0,0,.5); }",
    "@media (prefers-color-scheme: dark) { .gw.auto { --gw-bg: #161a21; --gw-text: #e6e9ee; --gw-muted: #a2acb9;",
    "  --gw-border: #2c333d; --gw-link: #8ab6ff; --gw-shadow: 0 8px 30px rgba(0,0,0,.5); } }",
    "[hidden] { display: none !important; }",
    ".launcher { position: fixed; bottom: 20px; right: 20px; display: inline-flex; align-items: center; gap: 8px;",
    "  padding: 12px 18px 12px 14px; border: 0; border-radius: 999px; background: var(--gw-accent); color: var(--gw-on-accent);",
    "  font: inherit; font-weight: 600; cursor: pointer; box-shadow: var(--gw-shadow); }",
    ".launcher:hover { filter: brightness(1.08); }",
    ".launcher:focus-visible, .card a:focus-visible, .card button:focus-visible { outline: 3px solid var(--gw-accent); outline-offset: 3px; }",
    ".launcher svg { width: 20px; height: 20px; flex: none; }",
    ".left .launcher { right: auto; left: 20px; }",
    ".panel { position: fixed; bottom: 84px; right: 20px; width: 390px; height: min(640px, calc(100vh - 110px));",
    "  border-radius: 16px; overflow: hidden; box-shadow: var(--gw-shadow); background: var(--gw-bg); border: 1px solid var(--gw-border); }",
    ".left .panel { right: auto; left: 20px; }",
    ".panel iframe { display: block; width: 100%; height: 100%; border: 0; background: transparent; }",
    "@media (max-width: 520px) { .panel { inset: 0; width: auto; height: auto; border-radius: 0; border: 0; }",
    "  .open .launcher { display: none; } }",
    ".card { position: fixed; max-width: min(340px, calc(100vw - 24px)); padding: 12px 14px; background: var(--gw-bg);",
    "  color: var(--gw-text); border: 1px solid var(--gw-border); border-top: 3px solid var(--gw-accent); border-radius: 10px;",
    "  box-shadow: var(--gw-shadow); font-size: 14px; }",
    ".card-title { display: flex; align-items: center; gap: 8px; flex-wrap: wrap; margin: 0 0 4px; font-size: 15px; font-weight: 700; }",
    ".card-badge { font-size: 11px; font-weight: 600; padding: 1px 7px; border-radius: 999px; background: #fbe7e8; color: #9b2027; }",
    ".card-badge.draft { background: #fcf0d4; color: #7a4f00; }",
    ".card-summary { margin: 0 0 8px; }",
    ".card-yours { margin: 0 0 8px; padding: 6px 8px; border-radius: 6px; background: color-mix(in srgb, var(--gw-accent) 10%, transparent); }",
    ".card-sense { margin: 0 0 8px; padding-top: 6px; border-top: 1px solid var(--gw-border); }",
    ".card-sense:first-of-type { border-top: 0; padding-top: 0; }",
    ".card-actions { display: flex; gap: 12px; align-items: center; flex-wrap: wrap; }",
    ".card a { color: var(--gw-link); font-weight: 600; text-underline-offset: 2px; }",
    ".card button { font: inherit; font-size: 13px; font-weight: 600; color: var(--gw-link); background: none; border: 0;",
    "  padding: 0; cursor: pointer; text-decoration: underline; text-underline-offset: 2px; }",
    ".muted { color: var(--gw-muted); font-size: 12px; }"
  ].join("\n");

  // ---- Host element and shadow root

  var host = document.createElement("glossary-widget");
  var hostStyle = host.style;
  [["all", "initial"], ["position", "fixed"], ["z-index", String(options.zIndex)], ["top", "0"], ["left", "0"],
    ["width", "0"], ["height", "0"], ["display", "block"], ["overflow", "visible"]].forEach(function (p) {
    hostStyle.setProperty(p[0], p[1], "important");
  });
  var shadow = host.attachShadow({ mode: "open" });
  if (shadow.adoptedStyleSheets !== undefined && window.CSSStyleSheet && "replaceSync" in CSSStyleSheet.prototype) {
    var sheet = new CSSStyleSheet();
    sheet.replaceSync(CSS);
    shadow.adoptedStyleSheets = [sheet];
  } else {
    var style = document.createElement("style"); // older browsers; needs the host CSP to allow inline styles
    style.textContent = CSS;
    shadow.appendChild(style);
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text != null) node.textContent = text;
    return node;
  }

  function contrastOn(hex) {
    var h = hex.length === 4 ? hex.replace(/[0-9a-f]/gi, "$&$&").slice(1) : hex.slice(1);
    function ch(i) {
      var c = parseInt(h.substr(i, 2), 16) / 255;
      return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
    }
    return 0.2126 * ch(0) + 0.7152 * ch(2) + 0.0722 * ch(4) > 0.36 ? "#10151c" : "#ffffff";
  }

  var wrap = el("div", "gw " + options.theme + (options.position === "bottom-left" ? " left" : ""));
  wrap.style.setProperty("--gw-accent", options.accent);
  wrap.style.setProperty("--gw-on-accent", contrastOn(options.accent));

  var panel = el("div", "panel");
  panel.id = "glossary-panel";
  panel.setAttribute("role", "dialog");
  panel.setAttribute("aria-label", options.title);
  panel.hidden = true;

  var launcher = el("button", "launcher");
  launcher.type = "button";
  launcher.setAttribute("aria-expanded", "false");
  launcher.setAttribute("aria-controls", "glossary-panel");
  var svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  var path = document.createElementNS("http://www.w3.org/2000/svg", "path");
  path.setAttribute("d", "M4 5.5A2.5 2.5 0 0 1 6.5 3h11A2.5 2.5 0 0 1 20 5.5v9a2.5 2.5 0 0 1-2.5 2.5H10l-4.5 4v-4A2.5 2.5 0 0 1 4 14.5z M8 8h8 M8 11.5h5");
  path.setAttribute("fill", "none");
  path.setAttribute("stroke", "currentColor");
  path.setAttribute("stroke-width", "1.9");
  path.setAttribute("stroke-linecap", "round");
  path.setAttribute("stroke-linejoin", "round");
  svg.appendChild(path);
  launcher.appendChild(svg);
  launcher.appendChild(el("span", null, options.label));

  // A non-modal dialog, not a tooltip: it holds links and a button that keyboard users reach from the term.
  var card = el("div", "card");
  card.setAttribute("role", "dialog");
  card.setAttribute("aria-label", "Definition");
  card.hidden = true;

  wrap.appendChild(panel);
  wrap.appendChild(launcher);
  wrap.appendChild(card);
  shadow.appendChild(wrap);

  // ---- The frame and its messages

  var frame = null;
  var ready = null; // a promise of {allowed}
  var resolveReady = null;
  var allowed = null;
  var requests = {};
  var nextId = 1;
  var wantFocus = false;

  function frameUrl() {
    var params = new URLSearchParams({
      origin: window.location.origin, audience: options.audience, title: options.title,
      accent: options.accent, theme: options.theme
    });
    return base + "/widget/frame?" + params.toString();
  }

  function ensureFrame() {
    if (frame) return ready;
    frame = document.createElement("iframe");
    frame.title = options.title;
    frame.src = frameUrl();
    frame.setAttribute("referrerpolicy", "strict-origin");
    // Scripts and its own origin's storage; never navigating or scripting the host page.
    frame.setAttribute("sandbox", "allow-scripts allow-same-origin allow-forms allow-popups allow-popups-to-escape-sandbox");
    frame.setAttribute("allow", "clipboard-write"); // the answers' "Copy answer" and "Copy link"
    ready = new Promise(function (resolve) {
      resolveReady = resolve;
      window.setTimeout(function () { resolve({ allowed: false, timeout: true }); }, READY_TIMEOUT_MS);
    });
    panel.appendChild(frame);
    return ready;
  }

  function send(message) {
    if (!frame || !frame.contentWindow) return;
    message.source = "glossary-host";
    frame.contentWindow.postMessage(message, serviceOrigin);
  }

  window.addEventListener("message", function (event) {
    if (!frame || event.origin !== serviceOrigin || event.source !== frame.contentWindow) return;
    var message = event.data;
    if (!message || message.source !== "glossary-widget") return;
    if (message.type === "glossary:ready") {
      allowed = message.allowed === true;
      if (!allowed && window.console) {
        window.console.warn("Glossary widget: " + window.location.origin + " is not in GLOSSARY_ALLOWED_ORIGINS of " +
          serviceOrigin + "; the assistant shows a refusal on this page.");
      }
      if (resolveReady) resolveReady({ allowed: allowed });
      if (isOpen() && wantFocus) send({ type: "glossary:open" });
    } else if (message.type === "glossary:close") {
      close(true);
    } else if (message.type === "glossary:spots" && requests[message.id]) {
      requests[message.id](message);
      delete requests[message.id];
    }
  });

  function isOpen() { return !panel.hidden; }

  function open(focus) {
    ensureFrame();
    panel.hidden = false;
    wrap.classList.add("open");
    launcher.setAttribute("aria-expanded", "true");
    hideCard(true);
    wantFocus = focus !== false;
    if (wantFocus) {
      frame.focus();
      if (allowed !== null) send({ type: "glossary:open" });
    }
  }

  function close(returnFocus) {
    if (!isOpen()) return;
    panel.hidden = true;
    wrap.classList.remove("open");
    launcher.setAttribute("aria-expanded", "false");
    send({ type: "glossary:closed" });
    if (returnFocus) launcher.focus();
  }

  launcher.addEventListener("click", function () {
    if (isOpen()) close(false);
    else open(true);
  });
  launcher.addEventListener("pointerenter", function () { ensureFrame(); }, { once: true });

  function ask(question) {
    open(true);
    ready.then(function (state) {
      if (state.allowed) send({ type: "glossary:ask", question: String(question) });
    });
  }

  // ---- Define-on-hover

  function requestSpots(texts) {
    return ensureFrame().then(function (state) {
      if (!state.allowed) return null;
      return new Promise(function (resolve) {
        var id = nextId++;
        requests[id] = resolve;
        window.setTimeout(function () {
          if (requests[id]) { delete requests[id]; resolve({ error: "timeout" }); }
        }, SPOT_TIMEOUT_MS);
        send({ type: "glossary:spot", id: id, texts: texts });
      });
    });
  }

  function skipElement(element) {
    return SKIP_TAGS.test(element.tagName.toUpperCase()) || element.isContentEditable ||
      element.hasAttribute("data-glossary-skip") || element.getAttribute("aria-hidden") === "true" ||
      element.hidden || element.getAttribute("role") === "textbox";
  }

  function collectTextNodes(roots) {
    var nodes = [];
    var chars = 0;
    var seen = new Set();
    for (var r = 0; r < roots.length && nodes.length < MAX_NODES && chars < MAX_CHARS; r++) {
      if (skipElement(roots[r])) continue;
      var walker = document.createTreeWalker(roots[r], NodeFilter.SHOW_ELEMENT | NodeFilter.SHOW_TEXT, {
        acceptNode: function (node) {
          if (node.nodeType === 1) return skipElement(node) ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_SKIP;
          return /[A-Za-z0-9]/.test(node.data) ? NodeFilter.FILTER_ACCEPT : NodeFilter.FILTER_SKIP;
        }
      });
      var node;
      while ((node = walker.nextNode()) && nodes.length < MAX_NODES) {
        if (seen.has(node)) continue;
        var length = Math.min(node.data.length, BATCH_CHARS);
        if (chars + length > MAX_CHARS) break;
        seen.add(node);
        nodes.push(node);
        chars += length;
      }
    }
    return nodes;
  }

  function batches(nodes) {
    var out = [];
    var current = [];
    var size = 0;
    nodes.forEach(function (node) {
      var length = Math.min(node.data.length, BATCH_CHARS);
      if (size + length > BATCH_CHARS && current.length) {
        out.push(current);
        current = [];
        size = 0;
      }
      current.push(node);
      size += length;
    });
    if (current.length) out.push(current);
    return out;
  }

  var marked = new Set(); // first mention per term only
  var markCount = 0;
  var terms = {};

  function markNode(node, spots) {
    // Right to left, so earlier offsets stay valid while the text node is split.
    spots.sort(function (a, b) { return b.start - a.start; });
    spots.forEach(function (spot) {
      if (!node.parentNode || spot.end > node.data.length || spot.start >= spot.end) return;
      var middle = node.splitText(spot.start);
      middle.splitText(spot.end - spot.start);
      var slug = spot.slugs[0]; // with data-audience, the server lists that audience's sense first
      var info = terms[slug];
      var link = document.createElement("a");
      link.className = "glossary-term";
      var decided = spot.slugs.length === 1 || (options.audience !== "both" && info.domain === options.audience &&
        spot.slugs.filter(function (s) { return terms[s] && terms[s].domain === options.audience; }).length === 1);
      link.href = decided ? new URL(info.url, base + "/").href : base + "/terms?q=" + encodeURIComponent(middle.data);
      link.target = "_blank";
      link.rel = "noopener";
      link.setAttribute("data-glossary-slugs", spot.slugs.join(" "));
      link.setAttribute("aria-description", spot.slugs.map(function (s) {
        return terms[s] ? terms[s].term + ": " + terms[s].summary : "";
      }).join(" Or: "));
      [["color", "inherit"], ["text-decoration-line", "underline"], ["text-decoration-style", "dotted"],
        ["text-decoration-thickness", "1.5px"], ["text-underline-offset", "0.2em"], ["cursor", "help"],
        ["font", "inherit"], ["background", "none"]].forEach(function (p) { link.style.setProperty(p[0], p[1]); });
      middle.parentNode.replaceChild(link, middle);
      link.appendChild(middle);
      wireMark(link, spot.slugs);
    });
  }

  function applySpots(batch, response) {
    if (!response || response.error || !Array.isArray(response.spots)) return false;
    Object.keys(response.terms || {}).forEach(function (slug) { terms[slug] = response.terms[slug]; });
    var byNode = new Map();
    response.spots.forEach(function (spot) {
      if (markCount >= MAX_MARKS) return;
      var key = spot.slugs.join(" ");
      if (marked.has(key) || !spot.slugs.every(function (s) { return terms[s]; })) return;
      var node = batch[spot.text];
      if (!node) return;
      marked.add(key);
      markCount += 1;
      if (!byNode.has(node)) byNode.set(node, []);
      byNode.get(node).push(spot);
    });
    byNode.forEach(function (spots, node) { markNode(node, spots); });
    return true;
  }

  function idle(callback) {
    if (window.requestIdleCallback) window.requestIdleCallback(callback, { timeout: 500 });
    else window.setTimeout(callback, 16);
  }

  function annotate(selector) {
    var roots;
    try {
      roots = document.querySelectorAll(selector);
    } catch (e) {
      if (window.console) window.console.warn("Glossary widget: data-annotate is not a valid CSS selector: " + selector);
      return Promise.resolve(0);
    }
    var groups = batches(collectTextNodes(roots)).slice(0, MAX_BATCHES);
    return new Promise(function (resolve) {
      function next(i) {
        if (i >= groups.length || markCount >= MAX_MARKS) {
          host.setAttribute("data-annotated", String(markCount));
          resolve(markCount);
          return;
        }
        var batch = groups[i];
        requestSpots(batch.map(function (node) { return node.data.slice(0, BATCH_CHARS); })).then(function (response) {
          if (response === null) { // this origin is not allowed: leave the page as it is
            host.setAttribute("data-annotated", "refused");
            resolve(0);
            return;
          }
          applySpots(batch, response);
          idle(function () { next(i + 1); });
        });
      }
      next(0);
    });
  }

  // ---- The hover card

  var current = null;
  var showTimer = null;
  var hideTimer = null;

  function position(target) {
    var rect = target.getBoundingClientRect();
    card.style.setProperty("left", "0px");
    card.style.setProperty("top", "0px");
    var width = card.offsetWidth;
    var height = card.offsetHeight;
    var left = Math.max(12, Math.min(rect.left, window.innerWidth - width - 12));
    var top = rect.bottom + 8;
    if (top + height > window.innerHeight - 8 && rect.top - height - 8 > 8) top = rect.top - height - 8;
    card.style.setProperty("left", left + "px");
    card.style.setProperty("top", top + "px");
  }

  function fillCard(target, slugs) {
    card.textContent = "";
    slugs.forEach(function (slug) {
      var info = terms[slug];
      if (!info) return;
      var sense = el("div", slugs.length > 1 ? "card-sense" : null);
      var title = el("p", "card-title", info.term);
      if (info.status === "deprecated" || info.status === "draft") {
        title.appendChild(el("span", "card-badge " + info.status, info.status === "draft" ? "Draft" : "Deprecated"));
      }
      sense.appendChild(title);
      sense.appendChild(el("p", "card-summary", info.summary));
      if (info.for_audience) {
        var yours = el("p", "card-yours");
        yours.appendChild(el("strong", null, (info.for_audience_title || "For you") + ": "));
        yours.appendChild(document.createTextNode(info.for_audience));
        sense.appendChild(yours);
      }
      if (info.replaced_by) {
        var replaced = el("p", "muted", "Use instead: ");
        var link = el("a", null, info.replaced_by.term);
        link.href = new URL(info.replaced_by.url, base + "/").href;
        link.target = "_blank";
        link.rel = "noopener";
        replaced.appendChild(link);
        sense.appendChild(replaced);
      }
      var actions = el("div", "card-actions");
      var full = el("a", null, "Full definition ↗");
      full.href = new URL(info.url, base + "/").href;
      full.target = "_blank";
      full.rel = "noopener";
      actions.appendChild(full);
      if (allowed) {
        var askButton = el("button", null, "Ask about it");
        askButton.type = "button";
        askButton.addEventListener("click", function () {
          hideCard(true);
          ask("What does " + info.term + " mean for us?");
        });
        actions.appendChild(askButton);
      }
      sense.appendChild(actions);
      card.appendChild(sense);
    });
  }

  function showCard(target, slugs) {
    window.clearTimeout(hideTimer);
    if (current === target && !card.hidden) return;
    current = target;
    fillCard(target, slugs);
    card.setAttribute("aria-label", "Definition of " + target.textContent);
    card.hidden = false;
    position(target);
  }

  function cardControls() {
    return Array.prototype.slice.call(card.querySelectorAll("a[href], button"));
  }

  // Focus back on the term without opening its card again (the next Tab then goes on through the page).
  var quietFocus = false;
  function returnTo(target) {
    if (!target || !document.contains(target)) return;
    quietFocus = true;
    target.focus();
    quietFocus = false;
  }

  function focusAfter(target) {
    var all = Array.prototype.slice.call(document.querySelectorAll(
      "a[href], button:not([disabled]), input:not([disabled]):not([type=hidden]), select, textarea, [tabindex]:not([tabindex='-1'])"))
      .filter(function (n) { return n.offsetParent !== null || n === target; });
    var next = all[all.indexOf(target) + 1];
    if (next) next.focus();
    else returnTo(target);
  }

  function hideCard(now) {
    window.clearTimeout(showTimer);
    window.clearTimeout(hideTimer);
    if (now) {
      card.hidden = true;
      current = null;
      return;
    }
    hideTimer = window.setTimeout(function () { card.hidden = true; current = null; }, 250);
  }

  function wireMark(link, slugs) {
    var pointer = "mouse";
    var shownBefore = false; // was this term's card already open when the finger came down?
    link.addEventListener("pointerdown", function (event) {
      pointer = event.pointerType || "mouse";
      shownBefore = current === link && !card.hidden;
    });
    link.addEventListener("mouseenter", function () {
      window.clearTimeout(showTimer);
      showTimer = window.setTimeout(function () { showCard(link, slugs); }, 200);
    });
    link.addEventListener("mouseleave", function () { window.clearTimeout(showTimer); hideCard(false); });
    link.addEventListener("focus", function () { if (!quietFocus) showCard(link, slugs); });
    link.addEventListener("blur", function () { hideCard(false); });
    // Touch: the first tap shows the card, a second tap on the term follows the link.
    link.addEventListener("click", function (event) {
      if (pointer !== "touch" && pointer !== "pen") return;
      pointer = "mouse";
      if (shownBefore && current === link && !card.hidden) return; // the second tap follows the link
      event.preventDefault();
      window.clearTimeout(showTimer);
      showCard(link, slugs);
    });
    // Keyboard: Tab from the term goes into its card ("Full definition", then "Ask about it").
    link.addEventListener("keydown", function (event) {
      if (event.key !== "Tab" || event.shiftKey || card.hidden || current !== link) return;
      var controls = cardControls();
      if (!controls.length) return;
      event.preventDefault();
      window.clearTimeout(hideTimer);
      controls[0].focus();
    });
  }

  card.addEventListener("mouseenter", function () { window.clearTimeout(hideTimer); });
  card.addEventListener("mouseleave", function () { if (!card.contains(shadow.activeElement)) hideCard(false); });
  card.addEventListener("focusin", function () { window.clearTimeout(hideTimer); });
  card.addEventListener("focusout", function (event) {
    if (!event.relatedTarget || !card.contains(event.relatedTarget)) hideCard(false);
  });
  card.addEventListener("keydown", function (event) {
    var target = current;
    if (event.key === "Escape") {
      event.preventDefault();
      event.stopPropagation();
      hideCard(true);
      returnTo(target);
      return;
    }
    if (event.key !== "Tab") return;
    var controls = cardControls();
    var index = controls.indexOf(shadow.activeElement);
    if (event.shiftKey && index === 0) { // back to the term
      event.preventDefault();
      returnTo(target);
    } else if (!event.shiftKey && index === controls.length - 1) { // past the card: on through the page
      event.preventDefault();
      hideCard(true);
      focusAfter(target);
    }
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && !card.hidden) {
      var target = current;
      var inCard = card.contains(shadow.activeElement);
      hideCard(true);
      if (inCard) returnTo(target);
    }
  });
  window.addEventListener("scroll", function () { if (!card.hidden) hideCard(true); }, { passive: true });

  // ---- Start

  function start() {
    document.body.appendChild(host);
    if (options.open) open(false);
    if (options.annotate) annotate(options.annotate);
  }

  window.GlossaryWidget = {
    open: function () { open(true); },
    close: function () { close(false); },
    ask: ask,
    annotate: annotate
  };

  if (document.body) start();
  else document.addEventListener("DOMContentLoaded", start);
})();
