// Find partners: a goal sets the weight sliders to its preset; each slider shows its value.
document.addEventListener("change", (event) => {
  if (event.target.id !== "preset") return;
  const weights = JSON.parse(event.target.selectedOptions[0].dataset.weights);
  for (const [name, value] of Object.entries(weights)) {
    const slider = document.getElementById(`w_${name}`);
    if (slider) {
      slider.value = value;
      slider.nextElementSibling.value = value;
    }
  }
});
document.addEventListener("input", (event) => {
  if (event.target.matches("input[type=range][data-factor]")) {
    event.target.nextElementSibling.value = event.target.value;
  }
});
