// The face an o365-config node shows the nodes that use it (types only; the node lives in nodes/o365-config).
import type { Node } from 'node-red';
import type { O365Error } from './errors';
import type { GraphClient } from '../graph/graph-client';
import type { AuthStatus, TokenManager } from '../auth/token-manager';
import type { CalendarReader } from '../calendar/calendar-reader';

/** What a dependent node registers: called with every change of the sign-in state. */
export type StateListener = (status: AuthStatus) => void;

/** The face the other nodes of this package see. */
export interface O365ConfigNode extends Node {
  /** Undefined when the node's settings are unusable; `problem` says why. */
  manager?: TokenManager;
  graph?: GraphClient;
  problem?: O365Error;
  /** Where the authorize step sends the browser back to (the o365-auth node's URLs use it). */
  redirectUri: string;
  ready: Promise<void>;
  /** This project's folder of the package under the user directory (token store, baselines). */
  dataDir: string;
  /** Graph request timeout and first backoff step, from settings.js `o365Calendar` (tests shorten them). */
  tuning: { timeoutMs: number; backoffBaseMs: number };
  /** The calendar reads trigger and state nodes share (one per mailbox, calendar and poll). */
  calendarReader: CalendarReader;
  register(listener: StateListener): void;
  deregister(listener: StateListener): void;
  authStatus(): AuthStatus;
}
