// The editor behaviour the calendar trigger and calendar state dialogs share: the calendar picker, the time-zone
// suggestions, the application-mode hint and the `match` check. Plain browser JavaScript (jQuery and RED are the
// editor's), inlined by scripts/build.js into each dialog as window.O365Calendar.calendarFields.

var CALENDAR_OTHER = '\u0000other';

// One style sheet for both dialogs (class o365-watch-form), added once however many dialogs inline this module.
var STYLE_ID = 'o365-watch-form-style';
if (!document.getElementById(STYLE_ID)) {
  var style = document.createElement('style');
  style.id = STYLE_ID;
  style.textContent = [
    '.o365-watch-form .form-row > label { width: 120px; }',
    '.o365-watch-form .form-row > input[type="text"], .o365-watch-form .form-row > select { width: calc(100% - 130px); }',
    '.o365-watch-form .form-row.o365-flex { display: flex; align-items: center; }',
    '.o365-watch-form .form-row.o365-flex > label { margin: 0 4px 0 0; flex: 0 0 auto; }',
    '.o365-watch-form .form-row.o365-flex > input, .o365-watch-form .form-row.o365-flex > select { flex: 1 1 auto; min-width: 0; }',
    '.o365-watch-form .form-row.o365-flex > .red-ui-button { flex: 0 0 auto; margin-left: 6px; }',
    '.o365-watch-form .o365-indent { margin-left: 125px; }',
    '.o365-watch-form .form-tips.o365-indent { margin-top: -6px; margin-bottom: 12px; padding: 4px 8px; }',
    '.o365-watch-form .o365-line { margin: -6px 0 12px 125px; font-size: 12px; color: var(--red-ui-secondary-text-color, #555); }',
    '.o365-watch-form .o365-line.o365-error { color: #d6615f; }',
    '.o365-watch-form .o365-heading { margin: 16px 0 10px; padding-top: 8px; border-top: 1px solid var(--red-ui-secondary-border-color, #ddd); font-weight: bold; }',
    '.o365-watch-form .o365-check { display: inline-block; width: auto !important; margin: 0 4px 0 0 !important; vertical-align: middle; }',
    '.o365-watch-form label.o365-check-label { width: calc(100% - 150px); vertical-align: middle; margin-bottom: 0; }',
    '.o365-watch-form .o365-short { width: 80px !important; }',
  ].join('\n');
  document.head.appendChild(style);
}

/** A property's value as the open dialog has it (the saved one when the dialog is closed). */
function live(name, saved) {
  var input = $('#node-input-' + name);
  if (!input.length) return saved;
  return input.attr('type') === 'checkbox' ? input.prop('checked') : input.val();
}

/**
 * The `user` check: application mode reads a given mailbox, unless a message may choose it. `node` is the node
 * being validated, `say(key)` translates.
 */
exports.userProblem = function (node, value, say) {
  var config = RED.nodes.node(live('config', node.config));
  if (!config || config.mode !== 'application') return '';
  if (String(value || '').trim() || live('allowMsgMailbox', node.allowMsgMailbox)) return '';
  return say('validation.userRequired');
};

/** The problem with a `match` value in words, or '' (the runtime's own grammar decides: one source). */
exports.matchProblem = function (value, say) {
  var grammar = window.O365Calendar.grammar;
  var parsed = grammar.parseMatch(String(value === undefined || value === null ? '' : value));
  return grammar.isProblem(parsed) ? say('validation.badRegex', parsed.params) : '';
};

/** What a `match` value does, in words. */
exports.matchWords = function (value, say) {
  var grammar = window.O365Calendar.grammar;
  var parsed = grammar.parseMatch(String(value === undefined || value === null ? '' : value));
  if (grammar.isProblem(parsed)) return '';
  if (parsed.kind === 'any') return say('match.any');
  if (parsed.kind === 'text') return say('match.text', { text: parsed.text });
  return say('match.regex', { regex: String(parsed.regex) });
};

/**
 * Wires the shared fields of a dialog whose ids start with `prefix` (e.g. "o365-trigger"): the calendar picker
 * (shows names, stores the id), the zone suggestions and the application-mode hint. `say(key, params)` translates.
 */
exports.prepare = function (prefix, say) {
  var idInput = $('#node-input-calendarId');
  var nameInput = $('#node-input-calendarName');
  var pick = $('#' + prefix + '-calendar-pick');
  var info = $('#' + prefix + '-calendar-info');
  var known = {};

  function fillPicker(calendars) {
    var current = String(idInput.val() || '');
    pick.empty();
    $('<option>').val('').text(say('calendar.default')).appendTo(pick);
    (calendars || []).forEach(function (calendar) {
      var text = calendar.name || calendar.id;
      if (calendar.isDefaultCalendar) text += ' ' + say('calendar.defaultMark');
      $('<option>')
        .val(calendar.id)
        .text(text)
        .data('name', calendar.name || '')
        .appendTo(pick);
    });
    if (current && !known[current]) {
      $('<option>')
        .val(current)
        .text(nameInput.val() || current)
        .data('name', nameInput.val() || '')
        .appendTo(pick);
    }
    $('<option>').val(CALENDAR_OTHER).text(say('calendar.other')).appendTo(pick);
    pick.val(current);
    idInput.toggle(false);
  }

  pick.on('change', function () {
    var value = pick.val();
    if (value === CALENDAR_OTHER) {
      nameInput.val('');
      idInput.toggle(true).trigger('focus');
      return;
    }
    nameInput.val(value ? pick.find('option:selected').data('name') || '' : '');
    idInput.val(value).toggle(false).trigger('change');
  });

  $('#' + prefix + '-calendar-load').on('click', function () {
    var configId = $('#node-input-config').val();
    if (!configId || configId === '_ADD_') {
      info.addClass('o365-error').text(say('calendar.noConfig')).show();
      return;
    }
    var user = String($('#node-input-user').val() || '').trim();
    var button = $(this).prop('disabled', true);
    info.removeClass('o365-error').text(say('calendar.loading')).show();
    $.ajax({
      url:
        'o365/calendars/' + encodeURIComponent(configId) + (user ? '?user=' + encodeURIComponent(user) : ''),
      type: 'GET',
      dataType: 'json',
      cache: false,
      timeout: 60000,
    }).then(
      function (calendars) {
        button.prop('disabled', false);
        known = {};
        (calendars || []).forEach(function (calendar) {
          known[calendar.id] = calendar;
        });
        fillPicker(calendars);
        info
          .removeClass('o365-error')
          .text(say('calendar.loaded', { count: (calendars || []).length }))
          .show();
      },
      function (xhr) {
        button.prop('disabled', false);
        var answer = xhr && xhr.responseJSON;
        info
          .addClass('o365-error')
          .text(answer && answer.message ? answer.message : say('calendar.failed'))
          .show();
      },
    );
  });
  fillPicker([]);
  if (idInput.val() && !nameInput.val()) {
    pick.val(CALENDAR_OTHER);
    idInput.toggle(true);
  }

  var zones = [];
  try {
    if (typeof Intl.supportedValuesOf === 'function') zones = Intl.supportedValuesOf('timeZone');
  } catch (e) {
    zones = [];
  }
  var zoneList = $('#' + prefix + '-zone-list');
  zones.forEach(function (zone) {
    $('<option>').val(zone).appendTo(zoneList);
  });

  function showMailboxHint() {
    var config = RED.nodes.node($('#node-input-config').val());
    $('#' + prefix + '-app-hint').toggle(!!config && config.mode === 'application');
  }
  $('#node-input-config').on('change', showMailboxHint);
  showMailboxHint();

  var match = $('#node-input-match');
  var matchLine = $('#' + prefix + '-match-words');
  function showMatch() {
    var problem = exports.matchProblem(match.val(), say);
    matchLine.toggleClass('o365-error', !!problem).text(problem || exports.matchWords(match.val(), say));
  }
  match.on('change keyup', showMatch);
  showMatch();
};

/** Before saving: a trimmed calendar id, and no stale name for the default calendar. */
exports.save = function () {
  var id = String($('#node-input-calendarId').val() || '').trim();
  $('#node-input-calendarId').val(id);
  if (!id) $('#node-input-calendarName').val('');
};
