package main

import (
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/stampede-go/stampede/loadgen"
)

// The parts of the Kubernetes objects that TestJobYAML checks.
type (
	envVar struct {
		Name      string `yaml:"name"`
		Value     string `yaml:"value"`
		ValueFrom *struct {
			FieldRef *struct {
				FieldPath string `yaml:"fieldPath"`
			} `yaml:"fieldRef"`
		} `yaml:"valueFrom"`
	}
	container struct {
		Name         string   `yaml:"name"`
		Image        string   `yaml:"image"`
		Command      []string `yaml:"command"`
		Args         []string `yaml:"args"`
		Env          []envVar `yaml:"env"`
		VolumeMounts []struct {
			Name      string `yaml:"name"`
			MountPath string `yaml:"mountPath"`
		} `yaml:"volumeMounts"`
	}
	podSpec struct {
		RestartPolicy string      `yaml:"restartPolicy"`
		Containers    []container `yaml:"containers"`
		Volumes       []struct {
			Name                  string `yaml:"name"`
			PersistentVolumeClaim *struct {
				ClaimName string `yaml:"claimName"`
			} `yaml:"persistentVolumeClaim"`
		} `yaml:"volumes"`
	}
	object struct {
		APIVersion string `yaml:"apiVersion"`
		Kind       string `yaml:"kind"`
		Metadata   struct {
			Name string `yaml:"name"`
		} `yaml:"metadata"`
		Spec struct {
			// Job
			CompletionMode string `yaml:"completionMode"`
			Completions    *int   `yaml:"completions"`
			Parallelism    *int   `yaml:"parallelism"`
			BackoffLimit   *int   `yaml:"backoffLimit"`
			Template       struct {
				Spec podSpec `yaml:"spec"`
			} `yaml:"template"`
			// Pod
			podSpec `yaml:",inline"`
			// PersistentVolumeClaim
			AccessModes []string `yaml:"accessModes"`
		} `yaml:"spec"`
	}
)

// readObjects reads every document of a YAML file.
func readObjects(t *testing.T, path string) []object {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	var objs []object
	dec := yaml.NewDecoder(f)
	for {
		var o object
		if err := dec.Decode(&o); err != nil {
			require.ErrorIs(t, err, io.EOF, "%s: document %d", path, len(objs))
			return objs
		}
		objs = append(objs, o)
	}
}

// TestJobYAML checks that k8s/job.yaml is an Indexed Job whose pods run
// their segment of the plan, from one start time, each writing its result
// to its log, and that k8s/job-volume.yaml is the same Job writing into
// the shared volume of k8s/results.yaml.
func TestJobYAML(t *testing.T) {
	t.Run("job.yaml", func(t *testing.T) {
		c, pod := checkJob(t, "job.yaml")
		assert.Contains(t, c.Args, "-log", "the result goes to the pod's log")
		assert.NotContains(t, c.Args, "-out")
		assert.Empty(t, c.VolumeMounts, "no volume")
		assert.Empty(t, pod.Volumes, "no volume")
	})
	t.Run("job-volume.yaml", func(t *testing.T) {
		c, pod := checkJob(t, "job-volume.yaml")
		assert.NotContains(t, c.Args, "-log")
		checkVolume(t, c, pod)
	})
}

// checkJob checks what both manifests share and returns the pod's
// container and spec.
func checkJob(t *testing.T, name string) (container, podSpec) {
	jobs := readObjects(t, filepath.Join("k8s", name))
	require.Len(t, jobs, 1)
	job := jobs[0]
	assert.Equal(t, "batch/v1", job.APIVersion)
	assert.Equal(t, "Job", job.Kind)
	assert.Equal(t, "stampede", job.Metadata.Name, "the README waits for job/stampede")
	assert.Equal(t, "Indexed", job.Spec.CompletionMode)
	require.NotNil(t, job.Spec.Completions)
	require.NotNil(t, job.Spec.Parallelism)
	assert.Equal(t, *job.Spec.Completions, *job.Spec.Parallelism, "every segment runs at the same time")
	require.NotNil(t, job.Spec.BackoffLimit)
	assert.Zero(t, *job.Spec.BackoffLimit, "a retried segment would start late")

	pod := job.Spec.Template.Spec
	assert.Equal(t, "Never", pod.RestartPolicy)
	require.Len(t, pod.Containers, 1)
	c := pod.Containers[0]
	env := map[string]envVar{}
	for _, e := range c.Env {
		env[e.Name] = e
	}
	count, err := strconv.Atoi(env[loadgen.EnvSegmentCount].Value)
	require.NoError(t, err, "%s must be a number", loadgen.EnvSegmentCount)
	assert.Equal(t, *job.Spec.Completions, count, "%s = completions", loadgen.EnvSegmentCount)
	idx := env[loadgen.EnvJobCompletionIndex]
	require.NotNil(t, idx.ValueFrom, "%s is defined in the container, so $(...) expands it", loadgen.EnvJobCompletionIndex)
	require.NotNil(t, idx.ValueFrom.FieldRef)
	assert.Equal(t, "metadata.annotations['batch.kubernetes.io/job-completion-index']", idx.ValueFrom.FieldRef.FieldPath)
	assert.NotContains(t, env, loadgen.EnvSegmentIndex, "the index comes from the Job")
	assert.Equal(t, "__START_AT__", env[loadgen.EnvStartAt].Value, "the placeholder the README replaces")

	assert.Empty(t, c.Command, "the image's entrypoint is the program")
	require.NotEmpty(t, c.Args)
	assert.Equal(t, "run", c.Args[0])
	checkEnv(t, env, count)
	return c, pod
}

// checkVolume checks that the pod runs into the shared volume, one file
// per index, and results.yaml.
func checkVolume(t *testing.T, c container, pod podSpec) {
	out := ""
	for i, a := range c.Args {
		if a == "-out" && i+1 < len(c.Args) {
			out = c.Args[i+1]
		}
	}
	assert.Equal(t, "/results/segment-$(JOB_COMPLETION_INDEX).json", out)
	require.Len(t, c.VolumeMounts, 1)
	assert.Equal(t, "/results", c.VolumeMounts[0].MountPath)
	require.Len(t, pod.Volumes, 1)
	assert.Equal(t, c.VolumeMounts[0].Name, pod.Volumes[0].Name)
	require.NotNil(t, pod.Volumes[0].PersistentVolumeClaim)
	claim := pod.Volumes[0].PersistentVolumeClaim.ClaimName

	// results.yaml: the claim, shared by every node, and the pod to copy
	// the files from.
	objs := readObjects(t, filepath.Join("k8s", "results.yaml"))
	require.Len(t, objs, 2)
	pvc, reader := objs[0], objs[1]
	assert.Equal(t, "PersistentVolumeClaim", pvc.Kind)
	assert.Equal(t, claim, pvc.Metadata.Name)
	assert.Equal(t, []string{"ReadWriteMany"}, pvc.Spec.AccessModes, "pods on several nodes write at once")
	assert.Equal(t, "Pod", reader.Kind)
	assert.Equal(t, "stampede-results", reader.Metadata.Name, "the README copies from pod stampede-results")
	require.Len(t, reader.Spec.Containers, 1)
	require.Len(t, reader.Spec.Containers[0].VolumeMounts, 1)
	assert.Equal(t, "/results", reader.Spec.Containers[0].VolumeMounts[0].MountPath)
	require.Len(t, reader.Spec.Volumes, 1)
	require.NotNil(t, reader.Spec.Volumes[0].PersistentVolumeClaim)
	assert.Equal(t, claim, reader.Spec.Volumes[0].PersistentVolumeClaim.ClaimName)
}

// checkEnv checks that the program reads the pod's environment as the Job
// sets it.
func checkEnv(t *testing.T, env map[string]envVar, count int) {
	// The program reads the pod's environment as the Job sets it: the last
	// pod is the last segment, and the start time must be filled in.
	t.Setenv(loadgen.EnvSegmentIndex, "")
	t.Setenv(loadgen.EnvJobCompletionIndex, strconv.Itoa(count-1))
	t.Setenv(loadgen.EnvSegmentCount, env[loadgen.EnvSegmentCount].Value)
	seg, err := loadgen.SegmentFromEnv()
	require.NoError(t, err)
	assert.Equal(t, loadgen.Segment{Index: count - 1, Count: count}, seg)
	t.Setenv(loadgen.EnvStartAt, env[loadgen.EnvStartAt].Value)
	_, err = loadgen.StartAtFromEnv()
	assert.ErrorContains(t, err, "STAMPEDE_START_AT must be an RFC 3339 time", "an unreplaced placeholder fails the pod at once")
	t.Setenv(loadgen.EnvStartAt, strings.ReplaceAll(env[loadgen.EnvStartAt].Value, "__START_AT__", "2026-05-01T12:00:00Z"))
	_, err = loadgen.StartAtFromEnv()
	assert.NoError(t, err, "the README's sed replacement gives a valid start")
}
