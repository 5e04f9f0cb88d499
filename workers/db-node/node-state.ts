import { NODE_STAT_EPOCH, NODE_STAT_LSN, NODE_STAT_ROLE, ROLE_PRIMARY, ROLE_REPLICA, type DbRole } from './protocol.ts';

/** What every part of a node thread shares: its role, epoch and log position, published to the engine. */
export class NodeState {
  private roleValue: DbRole;
  private epochValue: number;
  private lsnValue = 0;
  /** True while a primary rejects new writes (during a planned switchover). */
  writesPaused = false;

  constructor(
    readonly nodeId: number,
    role: DbRole,
    epoch: number,
    readonly stats: Float64Array,
    /** Sends a message to the engine, which records it as a run event. */
    readonly notice: (message: string) => void,
  ) {
    this.roleValue = role;
    this.epochValue = epoch;
    this.publish();
  }

  get role(): DbRole {
    return this.roleValue;
  }

  get epoch(): number {
    return this.epochValue;
  }

  /** The last log position committed (primary) or applied (replica). */
  get lsn(): number {
    return this.lsnValue;
  }

  set lsn(value: number) {
    this.lsnValue = value;
    this.stats[NODE_STAT_LSN] = value;
  }

  become(role: DbRole, epoch: number): void {
    this.roleValue = role;
    this.epochValue = epoch;
    this.writesPaused = false;
    this.publish();
  }

  /** True when this node takes a write that carries `epoch`. */
  acceptsWrite(epoch: number): boolean {
    return this.roleValue === 'primary' && !this.writesPaused && epoch === this.epochValue;
  }

  private publish(): void {
    this.stats[NODE_STAT_ROLE] = this.roleValue === 'primary' ? ROLE_PRIMARY : ROLE_REPLICA;
    this.stats[NODE_STAT_EPOCH] = this.epochValue;
  }
}
