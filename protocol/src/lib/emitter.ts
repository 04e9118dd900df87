type Listener = (...args: never[]) => void;

/**
 * The few emitter methods socket.io calls on a parser's Decoder (`on`, `off`, `removeListener`).
 * Written here rather than importing socket.io's internal component-emitter, which is not our dependency.
 */
export class TinyEmitter<Events extends { [K in keyof Events]: Listener }> {
  private readonly listeners = new Map<keyof Events, Events[keyof Events][]>();

  on<K extends keyof Events>(event: K, listener: Events[K]): this {
    this.listeners.set(event, [...(this.listeners.get(event) ?? []), listener]);
    return this;
  }

  off<K extends keyof Events>(event?: K, listener?: Events[K]): this {
    if (event === undefined) this.listeners.clear();
    else if (listener === undefined) this.listeners.delete(event);
    else this.listeners.set(event, (this.listeners.get(event) ?? []).filter((l) => l !== listener));
    return this;
  }

  removeListener<K extends keyof Events>(event: K, listener: Events[K]): this {
    return this.off(event, listener);
  }

  protected emit<K extends keyof Events>(event: K, ...args: Parameters<Events[K]>): void {
    for (const listener of this.listeners.get(event) ?? []) (listener as (...a: Parameters<Events[K]>) => void)(...args);
  }
}
