// The household form: field staff stand at the door, so the point can be
// filled from the phone's GPS. The button carries its messages:
//   data-text-finding, data-text-unavailable
(function () {
  "use strict";

  function setup() {
    var button = document.getElementById("use-location");
    var status = document.getElementById("location-status");
    if (!button || !status || !navigator.geolocation) return;
    button.hidden = false;
    button.addEventListener("click", function () {
      status.textContent = button.dataset.textFinding || "";
      navigator.geolocation.getCurrentPosition(function (pos) {
        document.getElementById("id_latitude").value = pos.coords.latitude.toFixed(6);
        document.getElementById("id_longitude").value = pos.coords.longitude.toFixed(6);
        status.textContent = "";
      }, function () {
        status.textContent = button.dataset.textUnavailable || "";
      }, { enableHighAccuracy: true, timeout: 15000 });
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", setup);
  else setup();
})();
