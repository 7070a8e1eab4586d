// dropgate console: progressive enhancement only. Every action is a plain
// HTML form that works without this script; with it, a form marked
// data-confirm asks first, and the filters of a listing apply as soon as
// a select changes.
"use strict";

document.addEventListener("submit", (event) => {
  const form = event.target;
  const question = form instanceof HTMLFormElement ? form.dataset.confirm : undefined;
  if (question && !window.confirm(question)) {
    event.preventDefault();
  }
});

// A page about something under way (a file waiting to be processed)
// looks again in a moment.
const refresh = document.querySelector("[data-refresh]");
if (refresh) {
  window.setTimeout(() => window.location.reload(), Number(refresh.dataset.refresh) * 1000);
}

document.addEventListener("change", (event) => {
  const field = event.target;
  if (field instanceof HTMLSelectElement && field.form && field.form.dataset.autosubmit !== undefined) {
    field.form.requestSubmit();
  }
});
