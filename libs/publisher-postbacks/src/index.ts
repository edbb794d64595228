export * from './publisher-postbacks';
