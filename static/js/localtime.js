// Event times in the reader's own time zone. Without this the page shows them in the site's time zone.
(function () {
  "use strict";
  if (!("Intl" in window)) return;
  var format = new Intl.DateTimeFormat(undefined, {
    weekday: "long", month: "long", day: "numeric", hour: "numeric", minute: "2-digit", timeZoneName: "short"
  });
  document.querySelectorAll("[data-local-time]").forEach(function (element) {
    var moment = new Date(element.getAttribute("data-local-time"));
    if (!isNaN(moment)) element.textContent = format.format(moment);
  });
})();
