import { formatReport } from './verify.command';

describe('formatReport', () => {
  it('labels the two cell comparisons apart and fails on either', () => {
    const out = formatReport(
      {
        differences: [
          { kind: 'cell', message: '2026-01-05|o-cap|pub-1|s1|wall|US postbacks: expected 2, got 1' },
          { kind: 'read-model', message: '2026-01-05|o-cap|pub-1|s1|wall|US approved: expected 1, got 0' },
        ],
        summary: { 'reconciliation cells': 1, 'read-model cells compared': 1 },
      },
      20,
    );
    expect(out).toContain(
      'cell (decision tables: SQL over postback_outcomes, ledger_entries): 1 difference(s)\n  2026-01-05|o-cap|pub-1|s1|wall|US postbacks',
    );
    expect(out).toContain(
      'read-model cell (recon_daily, recon_daily_reasons): 1 difference(s)\n  2026-01-05|o-cap|pub-1|s1|wall|US approved',
    );
    expect(out).toMatch(/^ {2}read-model cells compared +1$/m);
    expect(out).toMatch(/^FAIL: 2 difference\(s\)/m);
  });

  it('says both sources matched when clean', () => {
    const out = formatReport({ differences: [], summary: { 'read-model cells compared': 842 } }, 20);
    expect(out).toMatch(/^OK: .*decision tables and read models/m);
  });
});
