// "Copy link" on a resource page: without this script the link is still there to select and copy by hand.
(function () {
  "use strict";
  var buttons = document.querySelectorAll("button[data-copy]");
  Array.prototype.forEach.call(buttons, function (button) {
    var field = document.getElementById(button.getAttribute("data-copy"));
    var status = document.getElementById("cite-status");
    if (!field || !navigator.clipboard) return;
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(field.value).then(function () {
        if (status) status.textContent = "Link copied. Paste it in a post to cite this resource.";
      }, function () {
        field.focus();
        field.select();
        if (status) status.textContent = "The link is selected: copy it (Ctrl+C, or press and hold on a phone).";
      });
    });
  });
})();
