// Behaviour that would otherwise need inline script, which the Content-Security-Policy forbids.
document.addEventListener("submit", (event) => {
  const form = event.target.closest("form[data-confirm]");
  if (form && !window.confirm(form.dataset.confirm)) event.preventDefault();
});
