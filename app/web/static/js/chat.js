// The chat, on the chat page and inside the widget's frame. The page works as plain forms without this;
// with it, questions go to /api/ask, linked definitions open as inline cards, and feedback is one click.
// DOM is built with textContent; the only HTML inserted is what the server sanitized (answers, cards).
(function () {
  "use strict";

  var root = document.querySelector("[data-chat]");
  if (!root) return;

  var mode = root.getAttribute("data-mode") || "page";
  var inWidget = mode === "widget";
  var askUrl = root.getAttribute("data-api-ask");
  var feedbackUrl = root.getAttribute("data-api-feedback");
  var cardUrl = root.getAttribute("data-api-card");
  var form = document.getElementById("ask-form");
  var textarea = form.querySelector("textarea[name=question]");
  var conversationInput = form.querySelector("input[name=conversation_id]");
  var sendButton = form.querySelector(".send");
  var log = root.querySelector(".log");
  var intro = root.querySelector(".intro");
  var newButton = root.querySelector(".new-conversation");
  var template = document.getElementById("answer-template");
  var STORAGE_KEY = "glossary-chat-" + mode;
  var KEEP_TURNS = 30;
  var TIMEOUT_MS = 20000;
  var INTENTS = {
    "define": "Definition", "compare": "Comparison", "explain": "Terms in your text", "follow-up": "Follow-up",
    "clarify": "Which one do you mean?", "unknown": "Not in the glossary yet"
  };
  var reducedMotion = window.matchMedia("(prefers-reduced-motion: reduce)").matches;

  // Trusted Types (enforced by the pages' CSP): one policy, used only for HTML the server sanitized.
  var policy = window.trustedTypes && window.trustedTypes.createPolicy
    ? window.trustedTypes.createPolicy("glossary", { createHTML: function (html) { return html; } })
    : null;
  function setSanitizedHTML(element, html) {
    element.innerHTML = policy ? policy.createHTML(html) : html;
  }

  var state = { conversationId: conversationInput.value || null, turns: [] };
  var busy = false;
  var pendingFeedback = null; // sends a chosen rating that is still waiting for an optional comment

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text != null) node.textContent = text;
    return node;
  }

  function icon(pathD) {
    var svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    var path = document.createElementNS("http://www.w3.org/2000/svg", "path");
    path.setAttribute("d", pathD);
    path.setAttribute("fill", "none");
    path.setAttribute("stroke", "currentColor");
    path.setAttribute("stroke-width", "2.2");
    path.setAttribute("stroke-linecap", "round");
    svg.appendChild(path);
    return svg;
  }

  function audience() {
    var checked = document.querySelector("input[name=audience]:checked");
    var value = checked ? checked.value : "both";
    return value === "procurement" || value === "it" ? value : null;
  }

  function setAudience(value) {
    var input = document.querySelector("input[name=audience][value='" + (value === "it" || value === "procurement" ? value : "both") + "']");
    if (input) input.checked = true;
  }

  function termSlug(link) {
    var href = link.getAttribute("href");
    if (!href) return null;
    var url;
    try { url = new URL(href, window.location.href); } catch (e) { return null; }
    var match = url.pathname.match(/\/terms\/([a-z0-9]+(?:-[a-z0-9]+)*)\/?$/);
    return match ? match[1] : null;
  }

  function fetchJSON(url, options) {
    var controller = window.AbortController ? new AbortController() : null;
    var timer = controller ? window.setTimeout(function () { controller.abort(); }, TIMEOUT_MS) : null;
    options = options || {};
    if (controller) options.signal = controller.signal;
    return window.fetch(url, options).then(function (response) {
      return response.json().catch(function () { return null; }).then(function (data) {
        if (!response.ok) {
          var detail = data && typeof data.detail === "string" ? data.detail : "the service answered " + response.status;
          throw new Error(detail);
        }
        return data;
      });
    }, function (error) {
      throw new Error(error && error.name === "AbortError" ? "the service took too long to answer" : "the service could not be reached");
    }).finally(function () { if (timer) window.clearTimeout(timer); });
  }

  // ---- Persisting the conversation for this tab (so opening a term page and coming back keeps it)

  function save() {
    try {
      window.sessionStorage.setItem(STORAGE_KEY, JSON.stringify({
        conversationId: state.conversationId, turns: state.turns.slice(-KEEP_TURNS)
      }));
    } catch (e) { /* storage full or blocked: the conversation just isn't kept */ }
  }

  function restore() {
    var saved;
    try { saved = JSON.parse(window.sessionStorage.getItem(STORAGE_KEY) || "null"); } catch (e) { saved = null; }
    if (!saved || !Array.isArray(saved.turns) || !saved.turns.length) return;
    state.conversationId = saved.conversationId || null;
    conversationInput.value = state.conversationId || "";
    saved.turns.forEach(function (turn) {
      if (!turn || typeof turn.question !== "string" || !turn.answer) return;
      log.appendChild(questionItem(turn.question));
      var item = el("li", "turn turn-answer");
      item.appendChild(renderAnswer(turn.answer));
      log.appendChild(item);
      state.turns.push(turn);
    });
    showConversation(true);
  }

  function slim(data) {
    function hit(h) { return { slug: h.slug, term: h.term, url: h.url }; }
    return {
      conversation_id: data.conversation_id, turn: data.turn, intent: data.intent, confident: data.confident,
      answer_html: data.answer_html, terms: (data.terms || []).map(hit), suggestions: (data.suggestions || []).map(hit)
    };
  }

  // ---- Rendering

  function showConversation(on) {
    if (intro) intro.hidden = on;
    if (newButton) newButton.hidden = !on;
    textarea.placeholder = on ? "Ask a follow-up…" : "Ask about a term, compare two, or paste an email…";
  }

  function questionItem(question) {
    var item = el("li", "turn turn-question");
    item.appendChild(el("p", "bubble", question));
    return item;
  }

  function renderAnswer(data) {
    var article = template.content.querySelector(".answer").cloneNode(true);
    article.setAttribute("data-turn", String(data.turn));
    if (!data.confident) article.classList.add("answer-unknown");
    article.querySelector(".badge-intent").textContent = INTENTS[data.intent] || "";
    setSanitizedHTML(article.querySelector(".answer-body"), data.answer_html || "");
    var suggestions = data.suggestions || [];
    if (suggestions.length) {
      var box = article.querySelector(".suggestions");
      var list = box.querySelector(".chips");
      suggestions.forEach(function (s) {
        var li = el("li");
        var chip = el("button", "chip", s.term);
        chip.type = "submit";
        chip.setAttribute("form", "ask-form");
        chip.name = "example";
        chip.value = "What is " + s.term + "?";
        chip.formNoValidate = true;
        li.appendChild(chip);
        list.appendChild(li);
      });
      box.hidden = false;
    }
    article.querySelector(".feedback input[name=conversation_id]").value = data.conversation_id;
    article.querySelector(".feedback input[name=turn]").value = String(data.turn);
    enhance(article);
    return article;
  }

  function enhance(article) {
    article.querySelectorAll(".answer-body a[href]").forEach(function (link) {
      var slug = termSlug(link);
      if (inWidget) {
        link.target = "_blank";
        link.rel = "noopener";
      }
      if (!slug) return;
      link.setAttribute("data-slug", slug);
      link.addEventListener("click", function (event) {
        if (event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) return;
        event.preventDefault();
        openCard(article, link, slug);
      });
    });
    var feedback = article.querySelector("form.feedback");
    if (feedback) wireFeedback(feedback);
  }

  // ---- The inline card a linked definition opens

  function closeCard(article, returnFocus) {
    var card = article.querySelector(".term-card");
    if (!card) return;
    var opener = card._opener;
    card.remove();
    if (returnFocus && opener && document.contains(opener)) opener.focus();
  }

  function openCard(article, link, slug) {
    closeCard(article, false);
    var card = el("aside", "term-card");
    card.setAttribute("aria-label", "Definition of " + link.textContent);
    card.setAttribute("aria-busy", "true");
    card._opener = link;
    var close = el("button", "card-close");
    close.type = "button";
    close.setAttribute("aria-label", "Close the definition");
    close.appendChild(icon("M6 6l12 12M18 6L6 18"));
    close.addEventListener("click", function () { closeCard(article, true); });
    var heading = el("h3", null, link.textContent);
    heading.tabIndex = -1;
    var body = el("div", "card-body", "Loading the definition…");
    card.appendChild(close);
    card.appendChild(heading);
    card.appendChild(body);
    card.addEventListener("keydown", function (event) {
      if (event.key === "Escape") {
        event.preventDefault();
        event.stopPropagation();
        closeCard(article, true);
      }
    });
    // Right below the paragraph (or list, or table) that holds the link.
    var answerBody = article.querySelector(".answer-body");
    var block = link;
    while (block.parentElement && block.parentElement !== answerBody) block = block.parentElement;
    (block.parentElement === answerBody ? block : answerBody).after(card);
    heading.focus();
    var url = cardUrl + encodeURIComponent(slug) + (audience() ? "?audience=" + audience() : "");
    fetchJSON(url).then(function (data) {
      fillCard(card, heading, body, data, article);
    }, function (error) {
      body.textContent = "Couldn't load this definition (" + error.message + "). ";
      var full = el("a", "card-link", "Open the full page");
      full.href = link.href;
      if (inWidget) { full.target = "_blank"; full.rel = "noopener"; }
      body.appendChild(full);
    }).finally(function () { card.removeAttribute("aria-busy"); });
    card.scrollIntoView({ block: "nearest", behavior: reducedMotion ? "auto" : "smooth" });
  }

  function fillCard(card, heading, body, data, article) {
    heading.textContent = data.term;
    card.setAttribute("aria-label", "Definition of " + data.term);
    if (data.status !== "approved") heading.appendChild(el("span", "badge badge-" + data.status, data.status_label));
    body.textContent = "";
    body.appendChild(el("p", "card-summary", data.summary));
    if (data.replaced_by) {
      var replaced = el("p", "card-replaced", "Deprecated — use ");
      var next = el("a", null, data.replaced_by.term);
      next.href = data.replaced_by.url;
      next.addEventListener("click", function (event) {
        if (event.ctrlKey || event.metaKey || event.shiftKey) return;
        event.preventDefault();
        openCard(article, card._opener, data.replaced_by.slug);
      });
      replaced.appendChild(next);
      replaced.appendChild(document.createTextNode(" instead."));
      body.appendChild(replaced);
    }
    function part(title, html) {
      if (!html) return;
      body.appendChild(el("h4", "card-section-title", title));
      var div = el("div", "prose");
      setSanitizedHTML(div, html);
      body.appendChild(div);
    }
    if (data.section_html) part(data.section_title, data.section_html);
    else part("Definition", data.definition_html);
    part("Our rules", data.rules_html);
    var full = el("a", "card-link", inWidget ? "Open the full definition in a new tab" : "Open the full definition");
    full.href = data.url;
    if (inWidget) { full.target = "_blank"; full.rel = "noopener"; }
    body.appendChild(full);
    body.querySelectorAll(".prose a[href]").forEach(function (a) {
      if (inWidget) { a.target = "_blank"; a.rel = "noopener"; }
    });
  }

  // ---- Feedback: one record per answer, rating plus an optional comment

  function wireFeedback(feedback) {
    var thumbs = feedback.querySelectorAll(".thumb");
    var details = feedback.querySelector(".feedback-comment");
    var comment = feedback.querySelector("textarea[name=comment]");
    var send = feedback.querySelector(".send-feedback");
    var status = feedback.querySelector(".feedback-status");
    var rating = null;
    var sent = false;
    send.hidden = false;

    function submit(keepalive) {
      if (sent) return;
      if (!rating) {
        status.textContent = "Choose thumbs up or down first.";
        return;
      }
      sent = true;
      if (pendingFeedback === submit) pendingFeedback = null;
      var body = JSON.stringify({
        conversation_id: feedback.querySelector("input[name=conversation_id]").value,
        turn: parseInt(feedback.querySelector("input[name=turn]").value, 10) || null,
        rating: rating,
        comment: comment.value.trim()
      });
      var options = { method: "POST", headers: { "Content-Type": "application/json" }, body: body };
      if (keepalive) options.keepalive = true;
      fetchJSON(feedbackUrl, options).then(function () {
        status.textContent = "Thanks — your feedback was recorded.";
        thumbs.forEach(function (t) { t.disabled = true; });
        comment.disabled = true;
        send.hidden = true;
        if (!comment.value.trim()) details.open = false;
      }, function (error) {
        sent = false;
        status.textContent = "Couldn't send the feedback (" + error.message + "). Please try again.";
      });
    }

    thumbs.forEach(function (thumb) {
      thumb.addEventListener("click", function (event) {
        event.preventDefault();
        if (sent) return;
        if (pendingFeedback && pendingFeedback !== submit) pendingFeedback();
        rating = thumb.value;
        thumbs.forEach(function (t) { t.setAttribute("aria-pressed", String(t === thumb)); });
        details.open = true;
        status.textContent = rating === "up"
          ? "Thanks! Add a comment if you like, then press Send feedback."
          : "Sorry about that. What was wrong or missing? Then press Send feedback.";
        pendingFeedback = submit;
      });
    });
    send.addEventListener("click", function () { submit(false); });
    feedback.addEventListener("submit", function (event) {
      event.preventDefault();
      submit(false);
    });
  }

  function flushFeedback(keepalive) {
    if (pendingFeedback) {
      var send = pendingFeedback;
      pendingFeedback = null;
      send(keepalive);
    }
  }

  // ---- Asking

  function errorItem(message, question) {
    var item = el("li", "turn turn-answer");
    var box = el("div", "answer answer-error");
    box.setAttribute("role", "alert");
    box.appendChild(el("p", null, "Sorry — no answer this time: " + message + "."));
    var retry = el("button", "button-secondary", "Try again");
    retry.type = "button";
    retry.addEventListener("click", function () {
      var previous = item.previousElementSibling;
      item.remove();
      if (previous && previous.classList.contains("turn-question")) previous.remove();
      ask(question);
    });
    box.appendChild(retry);
    item.appendChild(box);
    return item;
  }

  function ask(question) {
    question = (question || "").trim();
    if (!question || busy) return;
    flushFeedback(false);
    busy = true;
    sendButton.disabled = true;
    showConversation(true);
    var questionLi = questionItem(question);
    log.appendChild(questionLi);
    var pending = el("li", "turn turn-answer");
    var placeholder = el("div", "answer answer-pending");
    placeholder.setAttribute("aria-busy", "true");
    placeholder.appendChild(el("div", "answer-body", "Looking it up"));
    pending.appendChild(placeholder);
    log.appendChild(pending);
    var typed = textarea.value;
    textarea.value = "";
    autosize();
    questionLi.scrollIntoView({ block: "start", behavior: reducedMotion ? "auto" : "smooth" });
    fetchJSON(askUrl, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ question: question, audience: audience(), conversation_id: state.conversationId })
    }).then(function (data) {
      state.conversationId = data.conversation_id;
      conversationInput.value = data.conversation_id;
      var article = renderAnswer(data);
      pending.textContent = "";
      pending.appendChild(article);
      state.turns.push({ question: question, answer: slim(data) });
      save();
    }, function (error) {
      pending.replaceWith(errorItem(error.message, question));
      if (!textarea.value) textarea.value = typed.trim() ? typed : question;
    }).finally(function () {
      busy = false;
      sendButton.disabled = false;
    });
  }

  function autosize() {
    textarea.style.height = "auto";
    textarea.style.height = Math.min(textarea.scrollHeight + 2, 192) + "px";
  }

  function reset() {
    flushFeedback(false);
    state = { conversationId: null, turns: [] };
    conversationInput.value = "";
    form.querySelectorAll("input[name=earlier]").forEach(function (input) { input.remove(); });
    log.textContent = "";
    try { window.sessionStorage.removeItem(STORAGE_KEY); } catch (e) { /* nothing kept */ }
    showConversation(false);
    textarea.focus();
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var submitter = event.submitter;
    ask(submitter && submitter.name === "example" ? submitter.value : textarea.value);
  });

  textarea.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.ctrlKey && !event.altKey && !event.metaKey && !event.isComposing) {
      event.preventDefault();
      ask(textarea.value);
    }
  });
  textarea.addEventListener("input", autosize);

  if (newButton) newButton.addEventListener("click", reset);

  document.querySelectorAll("input[name=audience]").forEach(function (input) {
    input.addEventListener("change", function () {
      if (inWidget) return;
      try { window.localStorage.setItem("glossary-audience", input.value); } catch (e) { /* not remembered */ }
    });
  });

  window.addEventListener("pagehide", function () { flushFeedback(true); });
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") flushFeedback(true);
  });

  // Answers the server rendered (no-JS path, or the page after a form post) get the same behaviour.
  log.querySelectorAll(".answer").forEach(enhance);
  if (!log.children.length) restore();
  if (!inWidget && !/[?&]audience=/.test(window.location.search)) {
    var savedAudience = null;
    try { savedAudience = window.localStorage.getItem("glossary-audience"); } catch (e) { /* none */ }
    if (savedAudience) setAudience(savedAudience);
  }
  if (textarea.value) { autosize(); if (!inWidget) textarea.focus(); }

  window.GlossaryChat = {
    ask: ask,
    focus: function () { textarea.focus(); },
    flush: function () { flushFeedback(true); },
    setAudience: setAudience
  };
})();
