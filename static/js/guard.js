// A post the confidentiality guard stopped comes back with the explanation first: move focus there, so that
// keyboard and screen-reader users start from what was found (threads/_guard_check.html).
document.addEventListener("DOMContentLoaded", () => {
  const panel = document.getElementById("guard-check");
  if (panel) panel.focus();
});
