export * from './admin-audit';
export * from './operator-tokens';
