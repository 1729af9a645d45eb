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
    "clarify": "Which one do you mean?", "unknown": "Not in the glossary yet", "not-glossary": "Not a glossary question"
  };
  var reducedMotion = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  var maxChars = parseInt(textarea.getAttribute("data-max-chars"), 10) || 4000;
  var countLine = document.getElementById("ask-count");
  var openFull = document.querySelector(".panel-open"); // the widget's "open the full glossary" link
  var numberFormat = window.Intl ? new Intl.NumberFormat("en-US") : { format: String };

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
      turn.answer.question = turn.question;
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
      answer_html: data.answer_html, terms: (data.terms || []).map(hit), suggestions: (data.suggestions || []).map(hit),
      followups: (data.followups || []).slice(0, 4), handoff: data.handoff || null, audience: data.audience || null,
      choices: (data.choices || []).slice(0, 4).map(function (c) { return { term: c.term, question: c.question }; })
    };
  }

  // Votes sent in this tab, so a reload shows them as sent instead of asking again.
  function rememberVote(conversationId, turn, rating) {
    state.turns.forEach(function (t) {
      if (t.answer && t.answer.conversation_id === conversationId && t.answer.turn === turn) t.answer.vote = rating;
    });
    save();
  }

  function updateOpenFull() {
    if (!openFull || !state.conversationId) return;
    var params = new URLSearchParams({ conversation: state.conversationId });
    if (audience()) params.set("audience", audience());
    openFull.href = "/?" + params.toString();
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
    // "Which one?": each choice is a reply in this conversation, which answers the question asked before it.
    var choices = data.choices || [];
    if (choices.length) {
      var pick = article.querySelector(".choices");
      var options = pick.querySelector(".chips");
      choices.forEach(function (c) {
        if (!c || typeof c.term !== "string" || typeof c.question !== "string") return;
        var li = el("li");
        var chip = el("button", "chip chip-choice", c.term);
        chip.type = "submit";
        chip.setAttribute("form", "ask-form");
        chip.name = "example";
        chip.value = c.question;
        chip.formNoValidate = true;
        li.appendChild(chip);
        options.appendChild(li);
      });
      pick.hidden = false;
    }
    var followups = data.followups || [];
    if (followups.length) {
      var next = article.querySelector(".followups");
      var chips = next.querySelector(".chips");
      followups.forEach(function (q) {
        var li = el("li");
        var chip = el("button", "chip chip-followup", q);
        chip.type = "submit";
        chip.setAttribute("form", "ask-form");
        chip.name = "example";
        chip.value = q;
        chip.formNoValidate = true;
        li.appendChild(chip);
        chips.appendChild(li);
      });
      next.hidden = false;
    }
    if (data.handoff && typeof data.handoff.url === "string" && /^mailto:/.test(data.handoff.url)) {
      var person = article.querySelector(".handoff");
      person.querySelector(".handoff-link").href = data.handoff.url;
      person.querySelector(".handoff-label").textContent = data.handoff.label;
      person.querySelector(".handoff-email").textContent = data.handoff.email;
      person.hidden = false;
    }
    article.querySelector(".feedback input[name=conversation_id]").value = data.conversation_id;
    article.querySelector(".feedback input[name=turn]").value = String(data.turn);
    article._question = data.question || "";
    enhance(article, data.vote);
    return article;
  }

  // ---- Copy a link to the question, or the answer's text

  function answerText(article) {
    var body = article.querySelector(".answer-body").cloneNode(true);
    body.querySelectorAll("summary, .compare-stack").forEach(function (n) { n.remove(); });
    var lines = [];
    body.querySelectorAll("p, li, tr").forEach(function (block) {
      if (block.closest("li") && block.tagName !== "LI") return; // a paragraph inside a list item: the item has it
      var cells = block.tagName === "TR" ? Array.prototype.map.call(block.children, function (c) { return c.textContent.trim(); }).join(" | ") : null;
      var text = (cells != null ? cells : block.textContent).replace(/\s+/g, " ").trim();
      if (text) lines.push(block.tagName === "LI" ? "- " + text : text);
    });
    return lines.join("\n");
  }

  function questionLink(question) {
    var params = new URLSearchParams({ q: question, ask: "1" });
    if (audience()) params.set("audience", audience());
    return new URL("/?" + params.toString(), window.location.href).href;
  }

  function copy(text, status, done) {
    function ok() { status.textContent = done; window.setTimeout(function () { status.textContent = ""; }, 4000); }
    function fallback() {
      var area = el("textarea", "visually-hidden");
      area.value = text;
      document.body.appendChild(area);
      area.select();
      var worked = false;
      try { worked = document.execCommand("copy"); } catch (e) { worked = false; }
      area.remove();
      if (worked) ok(); else status.textContent = "Couldn't copy here; select the text and copy it yourself.";
    }
    if (navigator.clipboard && navigator.clipboard.writeText) navigator.clipboard.writeText(text).then(ok, fallback);
    else fallback();
  }

  function wireActions(article) {
    var actions = article.querySelector(".answer-actions");
    if (!actions) return;
    var question = article._question || (function () {
      var item = article.closest(".turn-answer");
      var previous = item && item.previousElementSibling;
      return previous && previous.classList.contains("turn-question") ? previous.textContent.trim() : "";
    })();
    var status = actions.querySelector(".copy-status");
    actions.querySelector(".copy-link").addEventListener("click", function () {
      copy(questionLink(question), status, "Link copied: it asks this question again.");
    });
    actions.querySelector(".copy-answer").addEventListener("click", function () {
      copy((question ? "Q: " + question + "\n\n" : "") + answerText(article), status, "Answer copied.");
    });
    actions.hidden = !question;
  }

  // ---- Comparison tables: below 600 px each term is shown as its own block (CSS picks one of the two)

  function stackTables(article) {
    article.querySelectorAll(".answer-body table").forEach(function (table) {
      var head = table.querySelector("thead tr");
      var rows = table.querySelectorAll("tbody tr");
      if (!head || !rows.length || head.children.length < 3) return;
      var stack = el("div", "compare-stack");
      for (var c = 1; c < head.children.length; c++) {
        var section = el("section", "compare-term");
        var title = el("h4", "compare-term-title");
        Array.prototype.forEach.call(head.children[c].childNodes, function (n) { title.appendChild(n.cloneNode(true)); });
        section.appendChild(title);
        var list = el("dl");
        rows.forEach(function (row) {
          if (!row.children[c]) return;
          list.appendChild(el("dt", null, row.children[0].textContent));
          var dd = el("dd");
          Array.prototype.forEach.call(row.children[c].childNodes, function (n) { dd.appendChild(n.cloneNode(true)); });
          list.appendChild(dd);
        });
        section.appendChild(list);
        stack.appendChild(section);
      }
      table.classList.add("compare-table");
      table.after(stack);
    });
  }

  function enhance(article, vote) {
    stackTables(article);
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
    if (feedback) wireFeedback(feedback, vote);
    wireActions(article);
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

  function wireFeedback(feedback, vote) {
    var thumbs = feedback.querySelectorAll(".thumb");
    var details = feedback.querySelector(".feedback-comment");
    var comment = feedback.querySelector("textarea[name=comment]");
    var send = feedback.querySelector(".send-feedback");
    var status = feedback.querySelector(".feedback-status");
    var rating = null;
    var sent = false;
    send.hidden = false;
    if (vote === "up" || vote === "down") { // sent earlier in this tab
      sent = true;
      thumbs.forEach(function (t) { t.setAttribute("aria-pressed", String(t.value === vote)); t.disabled = true; });
      comment.disabled = true;
      send.hidden = true;
      status.textContent = "Thanks — your feedback was recorded.";
      return;
    }
    details.addEventListener("toggle", function () {
      if (details.open) send.scrollIntoView({ block: "nearest", behavior: reducedMotion ? "auto" : "smooth" });
    });

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
      var sentFor = JSON.parse(body);
      fetchJSON(feedbackUrl, options).then(function () {
        rememberVote(sentFor.conversation_id, sentFor.turn, sentFor.rating);
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
    if (question.length > maxChars) { // refused with a count, never cut: the reader decides what to keep
      showCount(question.length, true);
      textarea.focus();
      return;
    }
    closeSuggest();
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
    var latest = log.querySelector(".turn-latest");
    if (latest) latest.classList.remove("turn-latest");
    pending.classList.add("turn-latest");
    questionLi.scrollIntoView({ block: "start", behavior: reducedMotion ? "auto" : "smooth" });
    fetchJSON(askUrl, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ question: question, audience: audience(), conversation_id: state.conversationId })
    }).then(function (data) {
      state.conversationId = data.conversation_id;
      conversationInput.value = data.conversation_id;
      data.question = question;
      var article = renderAnswer(data);
      pending.textContent = "";
      pending.appendChild(article);
      state.turns.push({ question: question, answer: slim(data) });
      save();
      updateOpenFull();
      showCount(0, false);
      // The new question at the top, its answer below it (the sticky ask box is allowed for by scroll-padding).
      // Once now, which also ends the smooth scroll started when it was asked, and once more after the next
      // layout: a busy machine can lay the answer out (chips, folded detail) after this task has run.
      questionLi.scrollIntoView({ block: "start", behavior: "auto" });
      requestAnimationFrame(function () {
        requestAnimationFrame(function () { questionLi.scrollIntoView({ block: "start", behavior: "auto" }); });
      });
    }, function (error) {
      pending.replaceWith(errorItem(error.message, question));
      if (!textarea.value) textarea.value = typed.trim() ? typed : question;
    }).finally(function () {
      busy = false;
      sendButton.disabled = false;
    });
  }

  // ---- Long pastes: refused with a count instead of being cut by the box

  function showCount(length, insist) {
    if (!countLine) return;
    var over = length > maxChars;
    if (over || (insist && length) || length > maxChars * 0.9) {
      countLine.textContent = numberFormat.format(length) + " of " + numberFormat.format(maxChars) + " characters" +
        (over ? " — too long to ask; shorten the text by " + numberFormat.format(length - maxChars) + "." : "");
    } else {
      countLine.textContent = "";
    }
    countLine.classList.toggle("over", over);
    if (over) textarea.setAttribute("aria-invalid", "true");
    else textarea.removeAttribute("aria-invalid");
  }

  // ---- Type-ahead of term names: an ARIA 1.2 combobox on the ask box (list of options, arrows, Enter, Escape)

  var listbox = document.getElementById("ask-suggest");
  var termNames = null; // [{slug, term, names: [lower-case names and aliases]}]
  var loadingTerms = false;
  var options = [];
  var active = -1;
  var replaceFrom = -1;
  var MAX_OPTIONS = 6;

  function loadTerms() {
    if (termNames || loadingTerms || !listbox) return;
    loadingTerms = true;
    fetchJSON("/api/terms").then(function (data) {
      termNames = (data.terms || []).map(function (t) {
        return { slug: t.slug, term: t.term, aliases: t.aliases || [],
                 names: [t.term].concat(t.aliases || []).map(function (n) { return n.toLowerCase(); }) };
      });
      if (document.activeElement === textarea && textarea.value) suggest(); // typed while the list loaded
    }, function () { termNames = []; });
  }

  function closeSuggest() {
    if (!listbox) return;
    listbox.hidden = true;
    listbox.textContent = "";
    options = [];
    active = -1;
    textarea.setAttribute("aria-expanded", "false");
    textarea.removeAttribute("aria-activedescendant");
  }

  function setActive(index) {
    active = index;
    options.forEach(function (o, i) { o.node.setAttribute("aria-selected", String(i === index)); });
    if (index >= 0) {
      textarea.setAttribute("aria-activedescendant", options[index].node.id);
      options[index].node.scrollIntoView({ block: "nearest" });
    } else {
      textarea.removeAttribute("aria-activedescendant");
    }
  }

  function matches(phrase) {
    var out = [];
    for (var i = 0; i < termNames.length && out.length < 50; i++) {
      var t = termNames[i];
      for (var n = 0; n < t.names.length; n++) {
        var name = t.names[n];
        if (name === phrase) return []; // already typed in full
        if (name.indexOf(phrase) === 0 || name.indexOf(" " + phrase) !== -1) {
          out.push({ term: t, alias: n === 0 ? null : t.aliases[n - 1], starts: name.indexOf(phrase) === 0 ? 0 : 1 });
          break;
        }
      }
    }
    out.sort(function (a, b) { return a.starts - b.starts || a.term.term.length - b.term.term.length; });
    return out.slice(0, MAX_OPTIONS);
  }

  function suggest() {
    if (!listbox || !termNames) return;
    var value = textarea.value;
    var caret = textarea.selectionStart;
    if (value.length > 200 || value.indexOf("\n") !== -1 || caret !== textarea.selectionEnd || caret < value.length) {
      closeSuggest();
      return;
    }
    var words = value.slice(0, caret).match(/[A-Za-z0-9][\w&.\/-]*(?:\s+[A-Za-z0-9][\w&.\/-]*){0,2}$/);
    var found = [];
    if (words) {
      var parts = words[0].split(/\s+/);
      for (var k = Math.min(parts.length, 3); k >= 1 && !found.length; k--) {
        var phrase = parts.slice(parts.length - k).join(" ").toLowerCase();
        if (phrase.length < 2) continue;
        found = matches(phrase);
        replaceFrom = caret - parts.slice(parts.length - k).join(" ").length;
        if (value.slice(replaceFrom, caret).toLowerCase() !== phrase) replaceFrom = value.toLowerCase().lastIndexOf(phrase, caret);
      }
    }
    if (!found.length) { closeSuggest(); return; }
    listbox.textContent = "";
    options = found.map(function (f, i) {
      var li = el("li");
      li.id = "ask-option-" + i;
      li.setAttribute("role", "option");
      li.setAttribute("aria-selected", "false");
      li.appendChild(el("span", "option-term", f.term.term));
      if (f.alias) li.appendChild(el("span", "option-alias", f.alias));
      li.addEventListener("mousedown", function (event) { event.preventDefault(); }); // keep focus in the box
      li.addEventListener("click", function () { choose(i); });
      listbox.appendChild(li);
      return { node: li, term: f.term.term };
    });
    listbox.hidden = false;
    textarea.setAttribute("aria-expanded", "true");
    setActive(-1);
  }

  function choose(index) {
    var option = options[index];
    if (!option) return;
    var value = textarea.value;
    var caret = textarea.selectionStart;
    var from = replaceFrom >= 0 && replaceFrom <= caret ? replaceFrom : caret;
    var after = value.slice(caret);
    textarea.value = value.slice(0, from) + option.term + (after ? "" : " ") + after;
    var at = from + option.term.length + (after ? 0 : 1);
    textarea.setSelectionRange(at, at);
    closeSuggest();
    textarea.focus();
    autosize();
  }

  if (listbox) {
    textarea.setAttribute("role", "combobox");
    textarea.setAttribute("aria-autocomplete", "list");
    textarea.setAttribute("aria-controls", "ask-suggest");
    textarea.setAttribute("aria-expanded", "false");
    textarea.addEventListener("focus", loadTerms);
    textarea.addEventListener("blur", function () { window.setTimeout(closeSuggest, 100); });
    textarea.addEventListener("keydown", function (event) {
      if (listbox.hidden || !options.length) return;
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        var step = event.key === "ArrowDown" ? 1 : -1;
        setActive(active < 0 ? (step > 0 ? 0 : options.length - 1) : (active + step + options.length) % options.length);
      } else if (event.key === "Enter" && active >= 0 && !event.shiftKey) {
        event.preventDefault();
        event.stopImmediatePropagation();
        choose(active);
      } else if (event.key === "Escape") {
        event.preventDefault(); // in the widget, Escape closes the list, not the panel
        event.stopPropagation();
        closeSuggest();
      } else if (event.key === "Tab") {
        closeSuggest();
      }
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
  textarea.addEventListener("input", function () {
    autosize();
    showCount(textarea.value.length, false);
    suggest();
  });

  // "/" anywhere outside a text field brings the reader to the ask box.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey || event.defaultPrevented) return;
    var target = event.target;
    if (target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName))) return;
    event.preventDefault();
    textarea.focus();
  });

  // The sticky ask box's height, so scrolling (scroll-padding in site.css) never hides things under it.
  function measureAsk() {
    document.documentElement.style.setProperty("--ask-height", Math.ceil(form.getBoundingClientRect().height) + "px");
  }
  if (window.ResizeObserver) new ResizeObserver(measureAsk).observe(form);
  measureAsk();

  if (newButton) newButton.addEventListener("click", reset);

  document.querySelectorAll("input[name=audience]").forEach(function (input) {
    input.addEventListener("change", function () {
      updateOpenFull();
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
  updateOpenFull();
  if (textarea.value) { autosize(); showCount(textarea.value.length, false); if (!inWidget) textarea.focus(); }
  // A shared link (`/?q=…&ask=1`, from "Copy link") asks its question straight away, once.
  var params = new URLSearchParams(window.location.search);
  if (!inWidget && params.get("ask") === "1" && textarea.value.trim()) {
    params.delete("ask");
    window.history.replaceState(null, "", window.location.pathname + (params.toString() ? "?" + params.toString() : ""));
    ask(textarea.value);
  }

  window.GlossaryChat = {
    ask: ask,
    focus: function () { textarea.focus(); },
    flush: function () { flushFeedback(true); },
    setAudience: setAudience
  };
})();
