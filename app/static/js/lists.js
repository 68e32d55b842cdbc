/* A RegistryModelView list (views/templates/lists/table.html and search.html): FAB's row actions and
 * search filters, started here rather than by inline scripts (the Content-Security-Policy). */
(function ($) {
  "use strict";
  $(function () {
    if (document.querySelector("table.registry-list")) {
      window.modelActions = new AdminActions();
    }
    var data = document.getElementById("list-search-data");
    if (data && !data.dataset.started) {
      data.dataset.started = "1";
      var d = JSON.parse(data.textContent);
      new AdminFilters("#filter_form", d.labels, d.fields, d.filters, d.active);
    }
  });
}(jQuery));
