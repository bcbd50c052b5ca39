// The worker thread the web server's explorer jobs run on (piscina task).
import { type ExploreJob, runExploreJob } from './explore-job.js';

export default function exploreJob(job: ExploreJob): ReturnType<typeof runExploreJob> {
  return runExploreJob(job);
}
