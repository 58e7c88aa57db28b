// Live replies on a thread page. The page works fully without this: it only adds new posts as they arrive.
(function () {
  "use strict";
  var status = document.getElementById("live-status");
  var posts = document.getElementById("posts");
  var announcer = document.getElementById("live-announcer");
  if (!status || !posts || !("WebSocket" in window)) return;
  var threadId = status.getAttribute("data-thread-id");
  var delay = 1000;

  function depthOf(wrap) { return parseInt(wrap.getAttribute("data-depth") || "0", 10); }

  function insert(message) {
    if (document.getElementById("post-" + message.post_id)) return;  // already shown (e.g. our own reply)
    var wrap = document.createElement("div");
    wrap.className = "post-wrap";
    wrap.innerHTML = message.html;
    var parentPost = message.parent_id && document.getElementById("post-" + message.parent_id);
    if (!parentPost) {
      wrap.setAttribute("data-depth", "0");
      posts.appendChild(wrap);
    } else {
      var parentWrap = parentPost.parentNode;
      var depth = depthOf(parentWrap);
      wrap.setAttribute("data-depth", String(Math.min(depth + 1, 6)));
      var next = parentWrap.nextElementSibling;
      while (next && depthOf(next) > depth) next = next.nextElementSibling;
      posts.insertBefore(wrap, next);
    }
    var author = wrap.querySelector(".author");
    if (announcer) announcer.textContent = "New reply from " + (author ? author.textContent : "a member") + ".";
  }

  function connect() {
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    var socket = new WebSocket(scheme + window.location.host + "/ws/threads/" + threadId + "/");
    socket.onopen = function () {
      delay = 1000;
      status.textContent = "Live: new replies appear here as they are posted.";
      status.setAttribute("data-live", "on");
    };
    socket.onmessage = function (event) {
      var message = JSON.parse(event.data);
      if (message.type === "post.created") insert(message);
    };
    socket.onclose = function (event) {
      status.setAttribute("data-live", "off");
      if (event.code === 4403) { status.textContent = "Live updates are not available. Reload the page to see new replies."; return; }
      status.textContent = "Reconnecting… reload the page if new replies do not appear.";
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 30000);
    };
  }
  connect();
})();
