// The pages' one script (linked from templates/base.html). The Content-Security-Policy runs
// scripts from this site's files only: no inline <script> and no onchange="" attributes.

// A <select data-autosubmit> submits its form as soon as it changes (the team picker of
// the team queues page); without JavaScript the form's <noscript> button does it.
document.addEventListener("change", (event) => {
  const field = event.target;
  if (field instanceof HTMLSelectElement && field.matches("[data-autosubmit]") && field.form) {
    field.form.submit();
  }
});

// A type-ahead picker (templates/_picker.html): htmx lists the matches under the box; a
// click on one puts its id in the hidden field the form sends and its name in the box.
// Typing again clears the id until the next pick.
document.addEventListener("click", (event) => {
  const choice = event.target instanceof Element ? event.target.closest("button[data-pick]") : null;
  const picker = choice ? choice.closest("[data-picker]") : null;
  if (!choice || !picker) return;
  picker.querySelector("[data-picker-id]").value = choice.dataset.pick;
  picker.querySelector("[data-picker-box]").value = choice.dataset.pickLabel;
  picker.querySelector(".picker-results").replaceChildren();
});
document.addEventListener("input", (event) => {
  const box = event.target;
  if (box instanceof HTMLInputElement && box.matches("[data-picker-box]")) {
    box.closest("[data-picker]").querySelector("[data-picker-id]").value = "";
  }
});
