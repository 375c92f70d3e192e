/**
 * The subset of the Compose file format drydock writes. Typed objects are built here and
 * serialised by the `yaml` package (never string templates), so a value can never break out of
 * its field. Field names are the Compose spec's own.
 */

export type Labels = Record<string, string>;

export interface BindMount {
  type: 'bind';
  source: string;
  target: string;
  read_only?: boolean;
}

export interface Healthcheck {
  test: string[];
  interval: string;
  timeout: string;
  retries: number;
  start_period: string;
  disable?: boolean;
}

export interface DependsOnCondition {
  condition: 'service_started' | 'service_healthy' | 'service_completed_successfully';
}

/** Docker's json-file driver with its size caps (options are strings, as the engine takes them). */
export interface Logging {
  driver: 'json-file';
  options: { 'max-size': string; 'max-file': string };
}

export interface ComposeService {
  image?: string;
  container_name?: string;
  labels?: Labels;
  command?: string[];
  entrypoint?: string[];
  init?: boolean;
  working_dir?: string;
  user?: string;
  volumes?: BindMount[];
  environment?: Record<string, string>;
  cap_drop?: string[];
  cap_add?: string[];
  security_opt?: string[];
  read_only?: boolean;
  tmpfs?: string[];
  networks?: string[];
  network_mode?: string;
  depends_on?: Record<string, DependsOnCondition>;
  healthcheck?: Healthcheck;
  group_add?: string[];
  mem_limit?: string;
  memswap_limit?: string;
  cpus?: number;
  pids_limit?: number;
  logging?: Logging;
  sysctls?: Record<string, number>;
  /** Never written by drydock; typed so the invariant checker can refuse it. */
  ports?: string[];
  privileged?: boolean;
}

export interface ComposeNetwork {
  name?: string;
  internal?: boolean;
  external?: boolean;
  driver?: string;
  driver_opts?: Record<string, string>;
  labels?: Labels;
}

export interface ComposeFile {
  services: Record<string, ComposeService>;
  networks?: Record<string, ComposeNetwork>;
}
