import { Foundation1795537576936 } from './1795537576936-Foundation';
import { Catalog1795538418837 } from './1795538418837-Catalog';
import { Processing1795539648948 } from './1795539648948-Processing';

import { LedgerAppRole1795541000000 } from './1795541000000-LedgerAppRole';
import { SourceControls1795545292766 } from './1795545292766-SourceControls';
import { ReadModels1795548311467 } from './1795548311467-ReadModels';
import { SourcePolicies1795550000000 } from './1795550000000-SourcePolicies';
import { LaunchCriteria1795551000000 } from './1795551000000-LaunchCriteria';
import { Disputes1795552000000 } from './1795552000000-Disputes';
import { Alerts1795553000000 } from './1795553000000-Alerts';
import { PublisherPostbacks1795554000000 } from './1795554000000-PublisherPostbacks';
import { LedgerConversionSeqIndex1795555000000 } from './1795555000000-LedgerConversionSeqIndex';
import { PostbackDeadOutbox1795556000000 } from './1795556000000-PostbackDeadOutbox';
import { LedgerIntegrity1795557000000 } from './1795557000000-LedgerIntegrity';
import { PartnerFormats1795558000000 } from './1795558000000-PartnerFormats';
import { OperatorsAndSecrets1795559000000 } from './1795559000000-OperatorsAndSecrets';
import { AnalystCatalog1795560000000 } from './1795560000000-AnalystCatalog';
import { PostbackLog1795561000000 } from './1795561000000-PostbackLog';
import { ClickPartitions1795562000000 } from './1795562000000-ClickPartitions';
import { WallMacros1795563100000 } from './1795563100000-WallMacros';
import { MoneyModel1795563300000 } from './1795563300000-MoneyModel';
import { ExchangeRates1795563200000 } from './1795563200000-ExchangeRates';
import { EntryOrigins1795563400000 } from './1795563400000-EntryOrigins';
import { ReconMoney1795563500000 } from './1795563500000-ReconMoney';
import { LedgerWriteSpeed1795563600000 } from './1795563600000-LedgerWriteSpeed';
import { OutboxInline1795563700000 } from './1795563700000-OutboxInline';
import { ParkedClickWake1795563800000 } from './1795563800000-ParkedClickWake';
import { OutboxColumnGrants1795563900000 } from './1795563900000-OutboxColumnGrants';

/** Every migration, in order. `npm run migration:check` fails when entities drift from these. */
export const MIGRATIONS = [
  Foundation1795537576936,
  Catalog1795538418837,
  Processing1795539648948,
  LedgerAppRole1795541000000,
  SourceControls1795545292766,
  ReadModels1795548311467,
  SourcePolicies1795550000000,
  LaunchCriteria1795551000000,
  Disputes1795552000000,
  Alerts1795553000000,
  PublisherPostbacks1795554000000,
  LedgerConversionSeqIndex1795555000000,
  PostbackDeadOutbox1795556000000,
  LedgerIntegrity1795557000000,
  PartnerFormats1795558000000,
  OperatorsAndSecrets1795559000000,
  AnalystCatalog1795560000000,
  PostbackLog1795561000000,
  ClickPartitions1795562000000,
  WallMacros1795563100000,
  ExchangeRates1795563200000,
  MoneyModel1795563300000,
  EntryOrigins1795563400000,
  ReconMoney1795563500000,
  LedgerWriteSpeed1795563600000,
  OutboxInline1795563700000,
  ParkedClickWake1795563800000,
  OutboxColumnGrants1795563900000,
];
