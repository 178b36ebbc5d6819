"""The JSON API served beside the dashboard on one port (`papishares dashboard`): see routes.py."""
