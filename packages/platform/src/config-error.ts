/**
 * A bad or inconsistent configuration: the process stops at start with this one line.
 * In a file of its own: configuration is read before anything heavy is loaded (bootstrap.ts).
 */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}
