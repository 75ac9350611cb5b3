// Zone names: IANA for local math, Windows for Graph's Prefer: outlook.timezone, and the host's zone for "".
'use strict';
const { execFileSync } = require('child_process');
const should = require('should');
const { distPath } = require('../lib/dist');

const modulePath = distPath('nodes/shared/time/zones.js');
const tz = require(modulePath);
const { IANA_ALIAS_MAP, WINDOWS_TO_IANA_MAP } = require('windows-iana');
// The simulator's model of what Graph's Prefer: outlook.timezone takes (Windows names and the IANA names Microsoft lists).
const { preferredZone } = require('../sim/tz');

/** resolveZone('') and hostZone() as seen by a Node process started with TZ set. */
function hostAs(TZ) {
  const script = `const tz = require(${JSON.stringify(modulePath)});
    process.stdout.write(JSON.stringify({ host: tz.hostZone(), resolved: tz.resolveZone('') }));`;
  return JSON.parse(
    execFileSync(process.execPath, ['-e', script], { env: { ...process.env, TZ }, encoding: 'utf8' }),
  );
}

function failure(fn) {
  let caught;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  should.exist(caught, 'expected an error');
  caught.code.should.equal('INVALID_TIMEZONE');
  caught.cause.code.should.equal('INVALID_TIMEZONE');
  return caught;
}

describe('timezones', function () {
  describe('hostZone and ""', function () {
    this.timeout(30000); // each case starts a Node process: slow on a busy machine, never a timing assertion
    it("follow the host's zone", function () {
      hostAs('Asia/Tokyo').should.eql({
        host: 'Asia/Tokyo',
        resolved: { iana: 'Asia/Tokyo', windows: 'Tokyo Standard Time' },
      });
      hostAs('America/New_York').should.eql({
        host: 'America/New_York',
        resolved: { iana: 'America/New_York', windows: 'Eastern Standard Time' },
      });
      hostAs('UTC').should.eql({ host: 'UTC', resolved: { iana: 'UTC', windows: 'UTC' } });
    });

    it('resolve "" and blanks to the zone of this process', function () {
      tz.resolveZone('').iana.should.equal(tz.hostZone());
      tz.resolveZone('  ').should.eql(tz.resolveZone(''));
    });
  });

  describe('resolveZone', function () {
    for (const [name, iana, windows] of [
      ['Europe/Berlin', 'Europe/Berlin', 'W. Europe Standard Time'],
      ['America/New_York', 'America/New_York', 'Eastern Standard Time'],
      ['Asia/Kolkata', 'Asia/Kolkata', 'India Standard Time'],
      ['Asia/Calcutta', 'Asia/Calcutta', 'India Standard Time'],
      ['Asia/Tokyo', 'Asia/Tokyo', 'Tokyo Standard Time'],
      ['America/Santiago', 'America/Santiago', 'Pacific SA Standard Time'],
      ['UTC', 'UTC', 'UTC'],
      ['Etc/UTC', 'Etc/UTC', 'UTC'],
      ['Etc/GMT-1', 'Etc/GMT-1', 'W. Central Africa Standard Time'],
    ]) {
      it(`maps the IANA name ${name} to ${windows}`, function () {
        tz.resolveZone(name).should.eql({ iana, windows });
      });
    }

    for (const [name, iana] of [
      ['W. Europe Standard Time', 'Europe/Berlin'],
      ['Pacific Standard Time', 'America/Los_Angeles'],
      ['Eastern Standard Time', 'America/New_York'],
      ['Tokyo Standard Time', 'Asia/Tokyo'],
      ['Pacific SA Standard Time', 'America/Santiago'],
    ]) {
      it(`maps the Windows name ${name} to ${iana}`, function () {
        tz.resolveZone(name).should.eql({ iana, windows: name });
      });
    }

    it('takes any case and answers with the owners’ spelling', function () {
      tz.resolveZone('europe/berlin').should.eql({
        iana: 'Europe/Berlin',
        windows: 'W. Europe Standard Time',
      });
      tz.resolveZone('w. europe standard time').should.eql({
        iana: 'Europe/Berlin',
        windows: 'W. Europe Standard Time',
      });
      tz.resolveZone('utc').should.eql({ iana: 'UTC', windows: 'UTC' });
      tz.resolveZone(' Asia/Tokyo ').should.eql({ iana: 'Asia/Tokyo', windows: 'Tokyo Standard Time' });
    });

    it('resolves every Windows zone to itself and an IANA zone Intl knows', function () {
      const names = [...new Set(WINDOWS_TO_IANA_MAP.map((entry) => entry.windowsName))];
      names.length.should.be.above(130);
      for (const name of names) {
        const zone = tz.resolveZone(name);
        zone.windows.should.equal(name);
        (() => new Intl.DateTimeFormat('en-US', { timeZone: zone.iana })).should.not.throw();
      }
    });

    it('finds a Windows zone with the same clock for IANA zones newer than the table', function () {
      // Ciudad Juárez left Mexico's time for US Mountain time in 2022; the CLDR table in windows-iana predates it
      tz.resolveZone('America/Ciudad_Juarez').should.eql({
        iana: 'America/Ciudad_Juarez',
        windows: 'Mountain Standard Time',
      });
    });

    it('sends Graph only names it accepts: for every IANA zone and alias this host knows', function () {
      const names = new Set(Intl.supportedValuesOf('timeZone'));
      for (const entry of IANA_ALIAS_MAP) for (const alias of entry.alias) names.add(alias);
      for (const entry of WINDOWS_TO_IANA_MAP) for (const iana of entry.iana) names.add(iana);
      const refused = [];
      let checked = 0;
      for (const name of names) {
        let zone;
        try {
          zone = tz.resolveZone(name);
        } catch {
          continue; // a name Intl does not know (Etc/Unknown): refused before any request
        }
        checked += 1;
        if (!preferredZone(zone.windows)) refused.push(`${name} → ${zone.windows}`);
      }
      checked.should.be.above(400);
      refused.should.eql([]);
    });

    it('falls back to a Windows zone with the same clock, else to UTC, both names Graph takes', function () {
      // Troll (Antarctica) is UTC+0 in winter and UTC+2 in summer: no Windows zone keeps that clock.
      tz.resolveZone('Antarctica/Troll').should.eql({ iana: 'Antarctica/Troll', windows: 'UTC' });
      preferredZone('UTC').should.be.an.Object();
      preferredZone(tz.resolveZone('America/Ciudad_Juarez').windows).should.be.an.Object();
    });

    it('caches: the same answer object comes back', function () {
      tz.resolveZone('Europe/Berlin').should.equal(tz.resolveZone('Europe/Berlin'));
    });

    for (const bad of ['Mars/Olympus', 'Europe/Berlinn', 'CET Standard Time', '+01:00', 'Berlin']) {
      it(`refuses ${JSON.stringify(bad)}, naming it`, function () {
        failure(() => tz.resolveZone(bad)).message.should.equal(
          `timezone: "${bad}" is not a time zone; use an IANA name like Europe/Berlin, a Windows name like ` +
            "W. Europe Standard Time, or leave it empty for the host's zone",
        );
      });
    }
  });
});
