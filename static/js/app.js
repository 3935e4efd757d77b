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
