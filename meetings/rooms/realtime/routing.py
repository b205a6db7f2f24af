from django.urls import path

from meetings.rooms.realtime.consumer import MeetingConsumer

websocket_urlpatterns = [
    path("ws/meetings/<slug:slug>/", MeetingConsumer.as_asgi()),
]
