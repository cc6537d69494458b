// track_file: the file holds a number; the instance adds value x weight to its priority
// (tracking.ts). Watched with inotify on the file's directory (the file may be replaced
// by a rename, or not exist yet), re-read on every change; a missing or unreadable file
// reads as 0, as in keepalived.
import { existsSync, readFileSync, watch, writeFileSync, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { TrackFile } from '../config/model.js';

/** keepalived reads the leading integer; anything else counts as 0. */
export function parseTrackFileValue(text: string): number {
  const m = /^\s*(-?\d+)/.exec(text);
  return m ? Number(m[1]) : 0;
}

export function readTrackFile(path: string): number {
  try {
    return parseTrackFileValue(readFileSync(path, 'utf8'));
  } catch {
    return 0;
  }
}

export class TrackFileWatcher {
  private watcher: FSWatcher | null = null;
  private value: number;

  constructor(
    readonly def: TrackFile,
    private readonly onValue: (name: string, value: number) => void,
  ) {
    if (def.initFile && (def.initFile.overwrite || !existsSync(def.file))) {
      writeFileSync(def.file, `${def.initFile.value}\n`);
    }
    this.value = readTrackFile(def.file);
  }

  get current(): number {
    return this.value;
  }

  start(): void {
    const name = basename(this.def.file);
    try {
      this.watcher = watch(dirname(this.def.file), { persistent: false }, (_ev, file) => {
        if (file !== null && file !== name) return;
        const v = readTrackFile(this.def.file);
        if (v === this.value) return;
        this.value = v;
        this.onValue(this.def.name, v);
      });
    } catch {
      this.watcher = null; // no directory: the value stays 0 until a reload
    }
  }

  stop(): void {
    this.watcher?.close();
    this.watcher = null;
  }
}
