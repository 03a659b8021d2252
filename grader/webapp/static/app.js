// The thug-cat page: waits for the training, sends a photo's bytes, shows the answer.
// Every text from the server goes into the page as textContent, never as markup.
"use strict";

const texts = JSON.parse(document.getElementById("texts").textContent);
const limits = JSON.parse(document.getElementById("limits").textContent);
const $ = (id) => document.getElementById(id);
let answer = null;

function format(template, values) {
  return template.replace(/\{(\w+)\}/g, (whole, name) => (name in values ? String(values[name]) : whole));
}

function showMessage(text, note) {
  const box = $("message");
  box.textContent = text || "";
  box.hidden = !text;
  box.classList.toggle("note", Boolean(note));
}

function enable(on) {
  $("photo").disabled = !on;
  for (const button of document.querySelectorAll(".sample")) button.disabled = !on;
}

async function pollStatus() {
  let status;
  try {
    status = await (await fetch("/api/status", {cache: "no-store"})).json();
  } catch (err) {
    setTimeout(pollStatus, 1000);
    return;
  }
  const box = $("status");
  box.dataset.state = status.state;
  if (status.state === "training") {
    box.textContent = texts.training;
    setTimeout(pollStatus, 700);
    return;
  }
  if (status.state === "ready") {
    box.textContent = format(texts.ready, {seconds: status.seconds});
    enable(true);
    return;
  }
  box.textContent = texts.not_ready + (status.message ? "\n" + status.message : "");
  const list = $("missing-list");
  list.replaceChildren();
  for (const name of status.missing) {
    const item = document.createElement("li");
    item.textContent = name;
    list.appendChild(item);
  }
  $("missing").hidden = status.missing.length === 0;
  enable(false);
}

function render() {
  if (!answer) return;
  const withPoints = $("show-points").checked || !answer.glasses;
  $("result").src = withPoints ? answer.points_image : answer.image;
  const eyes = answer.eyes.map((p) => "(" + p[0] + ", " + p[1] + ")").join(", ");
  $("numbers").textContent = answer.glasses
    ? format(texts.result, {eyes, center: "(" + answer.glasses.center.join(", ") + ")",
                            angle: answer.glasses.angle, width: answer.glasses.width})
    : format(texts.no_glasses, {eyes});
  $("result-box").hidden = false;
}

async function send(blob) {
  if (blob.size > limits.max_bytes) {
    showMessage(texts.too_large);
    return;
  }
  showMessage(texts.working, true);
  let response, body;
  try {
    response = await fetch("/api/predict", {method: "POST", body: blob,
                                            headers: {"Content-Type": blob.type || "application/octet-stream"}});
    body = await response.json();
  } catch (err) {
    showMessage(format(texts.failed, {why: String(err)}));
    return;
  }
  if (!response.ok) {
    showMessage(body.message || format(texts.failed, {why: response.status}));
    $("result-box").hidden = true;
    $("result-box").dataset.ready = "";
    return;
  }
  answer = body;
  showMessage(body.message, true);
  render();
  $("result-box").dataset.ready = String(Date.now());
}

$("photo").addEventListener("change", (event) => {
  const file = event.target.files[0];
  if (file) send(file);
  event.target.value = "";
});
for (const button of document.querySelectorAll(".sample")) {
  button.addEventListener("click", async () => {
    const blob = await (await fetch(button.querySelector("img").src)).blob();
    send(blob);
  });
}
$("show-points").addEventListener("change", render);
pollStatus();
