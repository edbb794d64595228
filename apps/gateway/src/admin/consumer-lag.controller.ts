import { Controller, Get, Inject, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { AdminGuard } from './admin.guard';
import { ConsumerLagService } from './consumer-lag.service';

@ApiTags('admin')
@ApiBearerAuth()
@UseGuards(AdminGuard)
@Controller('v1/admin/consumer-lag')
export class ConsumerLagController {
  constructor(@Inject(ConsumerLagService) private readonly lag: ConsumerLagService) {}

  @ApiResponse({
    status: 200,
    description: 'Per group and partition: committed offset, log end offset and lag',
  })
  @Get()
  @ApiOperation({
    summary:
      "Per consumer group reading the system's topics (TOPIC_PREFIX applied) and partition: committed offset, log end, lag",
  })
  report() {
    return this.lag.report();
  }
}
