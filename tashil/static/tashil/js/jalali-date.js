// Attaches the Jalali date picker (@majidh1/jalalidatepicker) to every
// <input data-jdp>, including inputs that htmx swaps in later.
(function () {
  "use strict";

  var started = false;

  function isPersian() {
    return (document.documentElement.lang || "fa").toLowerCase().indexOf("fa") === 0;
  }

  function options() {
    var opts = {
      persianDigits: isPersian(),
      autoShow: true,
      autoHide: true,
      hideAfterChange: true,
      showTodayBtn: true,
      showEmptyBtn: true,
      separatorChars: { date: "/" },
      zIndex: 2000,
    };
    if (!isPersian()) {
      opts.months = ["Farvardin", "Ordibehesht", "Khordad", "Tir", "Mordad", "Shahrivar",
        "Mehr", "Aban", "Azar", "Dey", "Bahman", "Esfand"];
      opts.days = ["Sa", "Su", "Mo", "Tu", "We", "Th", "Fr"];
    }
    return opts;
  }

  // The picker listens for focus on document.body and matches inputs by
  // selector, so one start covers inputs added later. Starting again would
  // stack a second set of body listeners and open the picker twice.
  function start() {
    if (started || typeof window.jalaliDatepicker === "undefined" || !document.body) {
      return;
    }
    window.jalaliDatepicker.startWatch(options());
    started = true;
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }

  document.addEventListener("htmx:afterSwap", function () {
    // The picker script may itself arrive with the swapped content.
    start();
    // A picker left open for an input the swap removed would float over
    // the new content.
    var active = document.activeElement;
    if (started && !(active && active.matches && active.matches("input[data-jdp]"))) {
      window.jalaliDatepicker.hide();
    }
  });
})();
