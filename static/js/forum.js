// Thread lists on the home and category pages: new threads and threads with new posts move to the top
// as they happen. Without this script the lists are simply as fresh as the last page load.
(function () {
  "use strict";
  var list = document.getElementById("thread-list");
  var status = document.getElementById("forum-status");
  if (!list || !("WebSocket" in window)) return;
  var only = list.getAttribute("data-live-threads");
  var delay = 1000;

  function show(message) {
    if (only !== "all" && String(message.category_id) !== only) return;
    var old = list.querySelector('[data-thread-id="' + message.thread_id + '"]');
    if (old) old.parentNode.removeChild(old);
    var holder = document.createElement("ul");
    holder.innerHTML = message.html;
    var item = holder.firstElementChild;
    list.insertBefore(item, list.firstElementChild);
    var empty = document.getElementById("no-threads");
    if (empty) empty.parentNode.removeChild(empty);
    var title = item.querySelector(".title");
    if (status) status.textContent = "New activity: " + (title ? title.textContent : "a thread") + ".";
  }

  function connect() {
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    var socket = new WebSocket(scheme + window.location.host + "/ws/forum/");
    socket.onopen = function () { delay = 1000; list.setAttribute("data-live", "on"); };
    socket.onmessage = function (event) {
      var message = JSON.parse(event.data);
      if (message.type === "thread.activity") show(message);
    };
    socket.onclose = function (event) {
      list.setAttribute("data-live", "off");
      if (event.code === 4403) return;
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 30000);
    };
  }
  connect();
})();
