// Live updates on a thread page and in an e-consultation live room. The pages work fully without this: it only
// applies, in place, what happened since the page was rendered. Every update carries an event id; on (re)connect
// the socket is told the last id applied and sends what was missed first, so nothing is lost or applied twice.
(function () {
  "use strict";
  var status = document.getElementById("live-status");
  var posts = document.getElementById("posts");
  var announcer = document.getElementById("live-announcer");
  if (!status || !posts || !("WebSocket" in window)) return;
  var threadId = status.getAttribute("data-thread-id");
  var inRoom = status.hasAttribute("data-room");
  var lastId = parseInt(status.getAttribute("data-after") || "0", 10);
  var applied = {};
  var delay = 1000;
  var socket = null;
  var heartbeat = null;
  var HEARTBEAT_MS = 30000;

  function announce(text) { if (announcer) announcer.textContent = text; }
  function byId(id) { return document.getElementById(id); }
  // Live frames are rendered once for everyone, content notes collapsed; a reader who chose to always expand
  // them (data-expand-notes on #posts) gets them opened here.
  var expandNotes = posts.getAttribute("data-expand-notes") === "on";
  function fromHtml(html) {
    var holder = document.createElement("div");
    holder.innerHTML = html;
    if (expandNotes) {
      Array.prototype.forEach.call(holder.querySelectorAll("details.content-note"), function (note) { note.open = true; });
    }
    return holder.firstElementChild;
  }

  // In the room each post has a place for its "highlighted"/"answered" badge, and hosts get their buttons.
  function questionState(postId) {
    var template = byId("host-actions");
    var state = document.createElement("div");
    state.className = "question-state";
    state.id = "question-" + postId;
    state.innerHTML = '<span class="question-badge"></span>' + (template ? template.innerHTML
      .replace(/\/0\//g, "/" + postId + "/").replace(/post 0</g, "post " + postId + "<") : "");
    return state;
  }

  function repliesOf(parentWrap) {
    var list = parentWrap.querySelector(":scope > details.subtree > ol.replies");
    if (list) return list;
    var details = document.createElement("details");
    details.className = "subtree";
    details.open = true;
    var summary = document.createElement("summary");
    var author = parentWrap.querySelector(".author");
    summary.textContent = "Replies to " + (author ? author.textContent : "this post");
    list = document.createElement("ol");
    list.className = "replies";
    details.appendChild(summary);
    details.appendChild(list);
    parentWrap.appendChild(details);
    return list;
  }

  function insert(message) {
    if (byId("post-" + message.post_id)) return;  // already shown (e.g. our own reply)
    var wrap = document.createElement("li");
    wrap.className = "post-wrap";
    wrap.appendChild(fromHtml(message.html));
    var parentPost = message.parent_id && byId("post-" + message.parent_id);
    var nested = posts.getAttribute("data-view") === "nested";
    if (nested && parentPost) {
      var parentWrap = parentPost.parentNode;
      var depth = parseInt(parentWrap.getAttribute("data-depth") || "0", 10);
      wrap.setAttribute("data-depth", String(Math.min(depth + 1, 6)));
      repliesOf(parentWrap).appendChild(wrap);
    } else {
      wrap.setAttribute("data-depth", "0");
      var list = posts.querySelector("ol.post-tree, ol.post-list") || posts;
      list.appendChild(wrap);
    }
    if (inRoom) wrap.appendChild(questionState(message.post_id));
    var author = wrap.querySelector(".author");
    announce("New " + (inRoom ? "post" : "reply") + " from " + (author ? author.textContent : "a member") + ".");
  }

  // The post's own parts are replaced; what only this member sees (edit links, helpful, bookmark) stays, so
  // keyboard focus on those is kept.
  var OWN_PARTS = ".post-tools, .post-actions";

  function replaceContent(postId, html) {
    var article = byId("post-" + postId);
    if (!article) return;
    var fresh = fromHtml(html);
    var keep = article.querySelector(":scope > .post-tools, :scope > .post-actions");
    Array.prototype.slice.call(article.children).forEach(function (child) {
      if (!child.matches(OWN_PARTS)) article.removeChild(child);
    });
    Array.prototype.slice.call(fresh.children).forEach(function (child) { article.insertBefore(child, keep); });
  }

  function replaceBody(postId, text) {
    var article = byId("post-" + postId);
    if (!article) return;
    var parts = article.querySelectorAll(
      ":scope > .body, :scope > .post-note, :scope > .post-hidden, :scope > .post-deleted");
    if (!parts.length) return;
    var note = document.createElement("p");
    note.className = "muted post-removed";
    note.textContent = text;
    article.replaceChild(note, parts[0]);
    Array.prototype.slice.call(parts, 1).forEach(function (part) { article.removeChild(part); });
    unpin(postId);
  }

  function setBadge(postId, text, kind) {
    var state = byId("question-" + postId);
    var badge = state && state.querySelector(".question-badge");
    if (!badge) return;
    badge.innerHTML = "";
    var span = document.createElement("span");
    span.className = "badge " + kind;
    span.textContent = text;
    badge.appendChild(span);
  }

  function pin(message) {
    var list = byId("pinned-questions");
    if (!list) return;
    unpin(message.post_id);
    var item = document.createElement("li");
    item.id = "pinned-" + message.post_id;
    var link = document.createElement("a");
    link.href = "#post-" + message.post_id;
    link.textContent = "Question from " + message.author;
    var quote = document.createElement("blockquote");
    quote.className = "question";
    quote.textContent = message.excerpt;
    item.appendChild(link);
    item.appendChild(quote);
    list.insertBefore(item, list.firstChild);
    byId("no-pinned").hidden = true;
    setBadge(message.post_id, "Highlighted", "badge-check");
    announce("The hosts highlighted a question from " + message.author + ".");
  }

  function unpin(postId) {
    var item = byId("pinned-" + postId);
    if (item) item.parentNode.removeChild(item);
    var list = byId("pinned-questions");
    if (list && !list.children.length) byId("no-pinned").hidden = false;
  }

  function showPresence(members) {
    var list = byId("presence-list");
    if (!list) return;
    list.innerHTML = "";
    members.forEach(function (member) {
      var item = document.createElement("li");
      item.textContent = member.name;
      list.appendChild(item);
    });
    byId("presence-count").textContent = members.length + " here now.";
  }

  function typing() {
    return Array.prototype.some.call(document.querySelectorAll("textarea, input[type=text]"),
      function (field) { return field.value.trim() !== ""; });
  }

  var handlers = {
    "post.created": insert,
    "post.edited": function (m) { replaceContent(m.post_id, m.html); },
    "post.restored": function (m) { replaceContent(m.post_id, m.html); },
    "post.deleted": function (m) { replaceBody(m.post_id, "This post was deleted."); },
    "post.hidden": function (m) { replaceBody(m.post_id, "This post is waiting for a moderator's review."); },
    "post.reaction": function (m) {
      var count = document.querySelector('.helpful-count[data-post-id="' + m.post_id + '"]');
      if (count) count.textContent = String(m.count);
    },
    "question.highlighted": pin,
    "question.answered": function (m) { unpin(m.post_id); setBadge(m.post_id, "Answered", "badge-good"); }
  };

  function apply(message) {
    if (applied[message.event_id]) return;
    applied[message.event_id] = true;
    lastId = Math.max(lastId, message.event_id);
    var handler = handlers[message.type];
    if (handler) handler(message);
  }

  function onMessage(event) {
    var message = JSON.parse(event.data);
    if (message.type === "presence") { showPresence(message.members); return; }
    if (message.type === "reload") {
      // Further behind than the server keeps: the page itself is the catch-up, unless it would lose a draft.
      if (!typing()) { window.location.reload(); return; }
      status.textContent = "You were away for a long time. Reload the page to see everything new.";
      return;
    }
    if (message.event_id) apply(message);
  }

  function stopHeartbeat() { if (heartbeat) { clearInterval(heartbeat); heartbeat = null; } }

  function connect() {
    if (socket || !navigator.onLine) return;  // already connected, or the "online" event reconnects
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + window.location.host + "/ws/threads/" + threadId + "/?after=" + lastId);
    socket.onopen = function () {
      delay = 1000;
      status.textContent = inRoom ? "Live: new posts appear here as they are posted."
                                  : "Live: new replies appear here as they are posted.";
      status.setAttribute("data-live", "on");
      // Keeps this member in "who is here" of an e-consultation (the server ignores it elsewhere).
      heartbeat = setInterval(function () { socket.send(JSON.stringify({type: "heartbeat"})); }, HEARTBEAT_MS);
    };
    socket.onmessage = onMessage;
    socket.onclose = function (event) {
      stopHeartbeat();
      socket = null;
      status.setAttribute("data-live", "off");
      if (event.code === 4403) { status.textContent = "Live updates are not available. Reload the page to see new posts."; return; }
      status.textContent = "Reconnecting… reload the page if new posts do not appear.";
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 30000);
    };
  }

  window.addEventListener("offline", function () { if (socket) socket.close(); });
  window.addEventListener("online", function () { if (!socket) { delay = 1000; connect(); } });
  connect();
})();
