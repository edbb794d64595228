import type { CanonicalField, PostbackStatus } from '../key-dictionary';
import type { PartnerFormat } from '../partner-format';

/** One parameter of the postback URL we hand out: our parameter name, the platform's macro for its value. */
export interface TemplateParam {
  field: CanonicalField;
  /** One of the preset's own parameter names (the partner's key_map may rename it). */
  param: string;
  /** The platform's macro, in its own syntax; null where its docs name none (the operator fills it in). */
  macro: string | null;
}

/** A documented example postback of the platform and the canonical postback it must become. */
export interface PresetExample {
  /** The page the example comes from. */
  source: string;
  /** The documentation's URL, its placeholders filled with sample values. */
  url: string;
  expect: {
    click_id: string;
    transaction_id: string;
    status: PostbackStatus;
    payout_micros: string | null;
    currency: string | null;
    event?: string | null;
  };
}

/**
 * A platform's native postback shape as configuration: its parameter names, status codes, token
 * parameter and format. Pure data, built from the platform's public documentation (`docs`).
 */
export interface PartnerPreset {
  name: string;
  title: string;
  /** Network software (advertisers run it, we are their affiliate) or a tracker. */
  kind: 'network' | 'tracker';
  docs: readonly string[];
  keyMap: Partial<Record<CanonicalField, string[]>>;
  statusMap: Record<string, PostbackStatus>;
  /** The parameter the platform's security token travels in, when it has one. */
  tokenParam?: string;
  format: PartnerFormat;
  /** How a macro looks on this platform, e.g. `{name}`, `#name#`. */
  macroSyntax: string;
  /** The postback URL to paste into the platform, parameter by parameter. */
  template: readonly TemplateParam[];
  /** How our click id reaches the platform so that its macro can send it back. */
  clickIdHint: string;
  /** Known differences between the platform's meaning and ours. */
  caveats: readonly string[];
  examples: readonly PresetExample[];
}
