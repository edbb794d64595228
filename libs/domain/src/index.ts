export * from './money';
export * from './key-dictionary';
export * from './signature';
export * from './ip-allowlist';
export * from './click-id';
export * from './conversion';
export * from './ulid';
export * from './publisher-postbacks';
