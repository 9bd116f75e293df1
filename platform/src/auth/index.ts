export * from './app-keys.js';
export * from './keys.js';
export * from './middleware.js';
export * from './org-manager.js';
export * from './principal.js';
export * from './tokens.js';
