// The per-request check when nothing changed, at 10 to 10,000 tracked files:
// inotify (one non-blocking read), stat polling at every request (the
// forced-polling path with interval 0: one stat per file), and polling with
// a 1 s interval (one clock read between full checks).
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "pyfresh/change_detector.h"
#include "pyfresh/directory_watcher.h"
#include "pyfresh/filesystem.h"

namespace {

// Files spread over directories of 50, like the modules of a package tree.
std::vector<std::string> MakeTree(int files) {
  char pattern[] = "/tmp/pyfresh-bench-XXXXXX";
  std::string root = mkdtemp(pattern);
  std::vector<std::string> paths;
  for (int i = 0; i < files; ++i) {
    std::string directory = root + "/pkg" + std::to_string(i / 50);
    if (i % 50 == 0) mkdir(directory.c_str(), 0755);
    std::string path = directory + "/module" + std::to_string(i) + ".py";
    int fd = open(path.c_str(), O_CREAT | O_WRONLY | O_TRUNC, 0644);
    if (fd >= 0) {
      (void)!write(fd, "x = 1\n", 6);
      close(fd);
    }
    paths.push_back(path);
  }
  return paths;
}

void RunCheck(benchmark::State& state, bool polling, double interval_seconds) {
  static const char* kLabel[] = {"inotify", "poll"};
  std::vector<std::string> paths = MakeTree(static_cast<int>(state.range(0)));
  pyfresh::DetectorOptions options;
  options.force_polling = polling;
  options.poll_interval_ns = static_cast<int64_t>(interval_seconds * 1e9);
  pyfresh::ChangeDetector detector(options, pyfresh::RealFilesystem(), pyfresh::RealClock(),
                                   pyfresh::CreateInotifyWatcher, [](std::string_view) {});
  detector.Track(paths);
  detector.Check();  // starts watching and does the one full comparison
  for (auto _ : state) {
    benchmark::DoNotOptimize(detector.Check());
  }
  state.SetLabel(kLabel[polling ? 1 : 0]);
  state.counters["files"] = static_cast<double>(paths.size());
  std::string root = paths.front().substr(0, paths.front().find("/pkg"));
  std::string command = "rm -rf '" + root + "'";
  (void)!std::system(command.c_str());
}

void BM_CheckInotify(benchmark::State& state) { RunCheck(state, false, 0); }
void BM_CheckPollEveryRequest(benchmark::State& state) { RunCheck(state, true, 0); }
void BM_CheckPollInterval1s(benchmark::State& state) { RunCheck(state, true, 1.0); }

BENCHMARK(BM_CheckInotify)->Arg(10)->Arg(100)->Arg(1000)->Arg(10000);
BENCHMARK(BM_CheckPollEveryRequest)->Arg(10)->Arg(100)->Arg(1000)->Arg(10000);
BENCHMARK(BM_CheckPollInterval1s)->Arg(10)->Arg(100)->Arg(1000)->Arg(10000);

}  // namespace

BENCHMARK_MAIN();
