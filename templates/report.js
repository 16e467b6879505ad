(function () {
  'use strict';
  var collator = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' });
  function compare(a, b) {
    var x = a ? a.textContent : '';
    var y = b ? b.textContent : '';
    if (x === y) { return 0; }
    if (x === '') { return 1; }
    if (y === '') { return -1; }
    if (a.className === 'n' && b.className === 'n') {
      var d = Number(x) - Number(y);
      if (!isNaN(d)) { return d; }
    }
    return collator.compare(x, y);
  }
  var sections = document.querySelectorAll('section.table-section');
  Array.prototype.forEach.call(sections, function (section) {
    var table = section.querySelector('table.data');
    if (!table || !table.tHead || !table.tBodies.length) { return; }
    var body = table.tBodies[0];
    var input = section.querySelector('input.filter');
    if (input) {
      input.hidden = false;
      input.addEventListener('input', function () {
        var query = input.value.toLowerCase();
        Array.prototype.forEach.call(body.rows, function (row) {
          row.hidden = query !== '' && row.textContent.toLowerCase().indexOf(query) === -1;
        });
      });
    }
    var headers = table.tHead.rows[0].cells;
    Array.prototype.forEach.call(headers, function (th, index) {
      th.classList.add('sortable');
      th.tabIndex = 0;
      th.title = 'Sort';
      function sort() {
        var ascending = th.getAttribute('aria-sort') !== 'ascending';
        Array.prototype.forEach.call(headers, function (other) { other.removeAttribute('aria-sort'); });
        th.setAttribute('aria-sort', ascending ? 'ascending' : 'descending');
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (r1, r2) {
          var c = compare(r1.cells[index], r2.cells[index]);
          return ascending ? c : -c;
        });
        var fragment = document.createDocumentFragment();
        rows.forEach(function (row) { fragment.appendChild(row); });
        body.appendChild(fragment);
      }
      th.addEventListener('click', sort);
      th.addEventListener('keydown', function (event) {
        if (event.key === 'Enter' || event.key === ' ') { event.preventDefault(); sort(); }
      });
    });
  });
}());
