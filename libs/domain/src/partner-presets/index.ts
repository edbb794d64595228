import type { CanonicalField, PostbackStatus } from '../key-dictionary';
import type { PartnerFormat } from '../partner-format';
import { affise } from './affise.preset';
import { bemob } from './bemob.preset';
import { binom } from './binom.preset';
import { cake } from './cake.preset';
import { everflow } from './everflow.preset';
import { indoleads } from './indoleads.preset';
import { keitaro } from './keitaro.preset';
import { orbitra } from './orbitra.preset';
import type { PartnerPreset } from './partner-preset';
import { peerclick } from './peerclick.preset';
import { prosper202 } from './prosper202.preset';
import { redtrack } from './redtrack.preset';
import { scaleo } from './scaleo.preset';
import { trackier } from './trackier.preset';
import { tune } from './tune.preset';
import { voluum } from './voluum.preset';

export type { PartnerPreset, PresetExample, TemplateParam } from './partner-preset';
export * from './postback-url';

export const PRESETS: Readonly<Record<string, PartnerPreset>> = Object.freeze(
  Object.fromEntries(
    [
      everflow,
      tune,
      cake,
      affise,
      trackier,
      scaleo,
      keitaro,
      binom,
      voluum,
      redtrack,
      bemob,
      peerclick,
      prosper202,
      orbitra,
      indoleads,
    ].map((p) => [p.name, p]),
  ),
);

export const PRESET_NAMES: readonly string[] = Object.keys(PRESETS);

export function presetByName(name: string | null | undefined): PartnerPreset | undefined {
  return name && Object.prototype.hasOwnProperty.call(PRESETS, name) ? PRESETS[name] : undefined;
}

export interface PartnerConfig {
  keyMap: Partial<Record<CanonicalField, string[]>>;
  statusMap: Record<string, PostbackStatus>;
  format: PartnerFormat;
  tokenParam?: string;
}

/**
 * A partner's dictionary and format: the preset's, with the operator's explicit choices over it.
 * key_map replaces a preset field's names, status_map adds or replaces codes, format fields
 * replace the preset's one by one. A name the partner claims for a field is never ignored.
 */
export function withPreset(
  preset: PartnerPreset | undefined,
  explicit: Partial<PartnerConfig>,
): PartnerConfig {
  const keyMap = { ...preset?.keyMap, ...explicit.keyMap };
  const statusMap = { ...preset?.statusMap, ...explicit.statusMap };
  const format: PartnerFormat = { ...preset?.format, ...explicit.format };
  const claimed = new Set(
    Object.values(keyMap)
      .flat()
      .map((n) => n.toLowerCase()),
  );
  const ignore = format.ignoreParams?.filter((n) => !claimed.has(n.toLowerCase()));
  if (ignore?.length) format.ignoreParams = ignore;
  else delete format.ignoreParams;
  const tokenParam = explicit.tokenParam ?? preset?.tokenParam;
  return { keyMap, statusMap, format, ...(tokenParam ? { tokenParam } : {}) };
}
