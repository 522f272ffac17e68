import { describe, expect, it } from 'vitest';
import { formatBytes, formatDuration, formatPercent } from '../../screens/format.js';

describe('formatBytes', () => {
  it('prints small sizes in whole bytes', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(512)).toBe('512 B');
  });

  it('uses binary units with one decimal, as docker stats does', () => {
    expect(formatBytes(1024)).toBe('1.0 KiB');
    expect(formatBytes(48.2 * 1024 ** 2)).toBe('48.2 MiB');
    expect(formatBytes(23.4 * 1024 ** 3)).toBe('23.4 GiB');
  });

  it('moves to the next unit instead of printing 1024.0', () => {
    expect(formatBytes(1024 ** 2 - 10)).toBe('1.0 MiB');
  });

  it('shows a dash for values that are not sizes', () => {
    expect(formatBytes(Number.NaN)).toBe('–');
    expect(formatBytes(-1)).toBe('–');
  });
});

describe('formatPercent', () => {
  it('prints one decimal and allows more than one core', () => {
    expect(formatPercent(0)).toBe('0.0%');
    expect(formatPercent(12.345)).toBe('12.3%');
    expect(formatPercent(250)).toBe('250.0%');
  });

  it('shows a dash for NaN', () => {
    expect(formatPercent(Number.NaN)).toBe('–');
  });
});

describe('formatDuration', () => {
  it('uses ms, seconds, then minutes', () => {
    expect(formatDuration(420)).toBe('420ms');
    expect(formatDuration(3210)).toBe('3.2s');
    expect(formatDuration(125_000)).toBe('2m 05s');
  });

  it('does not print 60.0s just under a minute', () => {
    expect(formatDuration(59_990)).toBe('1m 00s');
  });
});
