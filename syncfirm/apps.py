from django.apps import AppConfig


class SyncfirmConfig(AppConfig):
    """The project's own plumbing: request ids and metrics carried into background tasks."""

    name = "syncfirm"

    def ready(self) -> None:
        from django_q.signals import post_execute_in_worker, pre_enqueue, pre_execute

        from . import metrics, request_id

        pre_enqueue.connect(request_id.stamp_task, dispatch_uid="request-id-stamp")
        pre_execute.connect(request_id.adopt_task, dispatch_uid="request-id-adopt")
        pre_execute.connect(metrics.task_started, dispatch_uid="metrics-task-started")
        post_execute_in_worker.connect(metrics.task_finished, dispatch_uid="metrics-task-done")
        post_execute_in_worker.connect(request_id.release_task, dispatch_uid="request-id-release")
