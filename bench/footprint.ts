import { APP_ARGS, appEnv, log, median, round, sleep, spawnServer, tempDir, type BenchEnv } from './lib.ts';

/**
 * footprint: `npm start`'s process on the embedded PostgreSQL with an existing data directory
 * (a first start made it): from spawn to the first 200 from /ready, and its RSS once idle (3 s
 * after ready). The PostgreSQL server's own processes are not counted. RSS under load comes
 * from the post_orders run (http.ts).
 */
export interface FootprintResults {
  start_to_ready_ms: number;
  start_to_ready_runs_ms: number[];
  idle_rss_mb: number;
}

export async function runFootprint(env: BenchEnv): Promise<FootprintResults> {
  const runs = env.settings.quick ? 2 : 5;
  const dataDir = await tempDir(env, 'shop-bench-footprint-');
  const settings = appEnv('', dataDir);
  delete (settings as Record<string, string>).DATABASE_URL;
  log('footprint: first start (creates the data directory)');
  const first = await spawnServer(APP_ARGS, settings, { timeoutMs: 120_000 });
  await first.stop();
  const ready: number[] = [];
  const rss: number[] = [];
  for (let i = 0; i < runs; i++) {
    const app = await spawnServer(APP_ARGS, settings, { timeoutMs: 120_000 });
    ready.push(app.readyMs);
    await sleep(3_000);
    rss.push(await app.rssMb());
    await app.stop();
    log(`footprint: start ${i + 1}/${runs}: ready in ${Math.round(app.readyMs)} ms, idle RSS ${round(rss.at(-1)!, 1)} MB`);
  }
  return { start_to_ready_ms: round(median(ready), 0), start_to_ready_runs_ms: ready.map((ms) => round(ms, 0)), idle_rss_mb: round(median(rss), 1) };
}
