import { createIdGenerator, keyPrefixes, normalizeId } from './ids.ts';

export type SalesforceUserConfig = {
  username: string;
  password: string;
  /** When set, the password grant wants `password + securityToken`, as from an untrusted network. */
  securityToken?: string;
  /** An 18-character 005… id; default: assigned in order (deterministic). */
  id?: string;
  /** Default: the username. */
  email?: string;
};

export type ConnectedAppConfig = {
  clientId: string;
  clientSecret: string;
  /** The user the client_credentials grant runs as; without one that grant is refused, as in Salesforce. */
  runAs?: string;
};

/** Everything configurable about the simulated org, each with its default. */
export type SalesforceSimConfig = {
  /** Default: one user `admin@planewright.test` / `planewright`, no security token. */
  users?: SalesforceUserConfig[];
  /** Default: `planewright-client` / `planewright-secret`, client credentials running as the first user. */
  connectedApps?: ConnectedAppConfig[];
  /** Default: 15000 calls a day (a Developer Edition org). */
  dailyApiLimit?: number;
  /** Default: 2000 records a query page. */
  queryBatchSize?: number;
  /** Idle time after which an access token stops working. Default: 2 hours. */
  sessionTimeoutMs?: number;
  /** Default: a fixed 00D… id, so runs are reproducible. */
  orgId?: string;
};

export type ResolvedUser = Required<Omit<SalesforceUserConfig, 'securityToken'>> & { securityToken?: string };

export type ResolvedConfig = {
  users: ResolvedUser[];
  connectedApps: ConnectedAppConfig[];
  dailyApiLimit: number;
  queryBatchSize: number;
  sessionTimeoutMs: number;
  orgId: string;
};

/** A configuration value the simulator cannot run with; the message says which one and what to give. */
export class SalesforceConfigError extends Error {
  readonly code = 'SF_SIM_CONFIG_INVALID';

  constructor(message: string) {
    super(`SF_SIM_CONFIG_INVALID: ${message}`);
    this.name = 'SalesforceConfigError';
  }
}

const positiveInteger = (name: string, value: number) => {
  if (!Number.isInteger(value) || value < 1)
    throw new SalesforceConfigError(`${name} is ${value}; give a whole number ≥ 1`);
  return value;
};

/** Fills in defaults and checks every value once, at start-up. */
export function resolveConfig(config: SalesforceSimConfig = {}): ResolvedConfig {
  const ids = createIdGenerator();
  const users = (config.users ?? [{ username: 'admin@planewright.test', password: 'planewright' }]).map(
    (u, i) => {
      if (!u.username || !u.password)
        throw new SalesforceConfigError(`users[${i}] needs a username and a password`);
      const id = u.id === undefined ? ids.next(keyPrefixes.User) : normalizeId(u.id);
      if (!id?.startsWith(keyPrefixes.User))
        throw new SalesforceConfigError(`users[${i}].id ${u.id} is no 005… user id`);
      return { ...u, id, email: u.email ?? u.username };
    },
  );
  if (users.length === 0) throw new SalesforceConfigError('users is empty; give at least one user');
  if (new Set(users.map((u) => u.username.toLowerCase())).size !== users.length) {
    throw new SalesforceConfigError('two users share a username; usernames are unique in Salesforce');
  }
  const connectedApps = config.connectedApps ?? [
    { clientId: 'planewright-client', clientSecret: 'planewright-secret', runAs: users[0]!.username },
  ];
  connectedApps.forEach((app, i) => {
    if (!app.clientId || !app.clientSecret) {
      throw new SalesforceConfigError(`connectedApps[${i}] needs a clientId and a clientSecret`);
    }
    if (app.runAs && !users.some((u) => u.username === app.runAs)) {
      throw new SalesforceConfigError(`connectedApps[${i}].runAs ${app.runAs} is not one of the users`);
    }
  });
  const orgId = config.orgId === undefined ? ids.next(keyPrefixes.Organization) : normalizeId(config.orgId);
  if (!orgId?.startsWith(keyPrefixes.Organization)) {
    throw new SalesforceConfigError(`orgId ${config.orgId} is no 00D… organization id`);
  }
  return {
    users,
    connectedApps,
    dailyApiLimit: positiveInteger('dailyApiLimit', config.dailyApiLimit ?? 15_000),
    queryBatchSize: positiveInteger('queryBatchSize', config.queryBatchSize ?? 2000),
    sessionTimeoutMs: positiveInteger('sessionTimeoutMs', config.sessionTimeoutMs ?? 2 * 60 * 60_000),
    orgId,
  };
}
