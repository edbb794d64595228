import { Controller, Get, Inject, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { IsIn, IsOptional, Matches } from 'class-validator';
import { DataSource } from 'typeorm';
import { listAlerts } from '@app/alerts';
import { ApiError } from '../http/api-error';
import { AdminGuard } from './admin.guard';

export class AlertListQuery {
  @IsOptional()
  @IsIn(['firing', 'all'], { message: 'status must be firing or all' })
  status?: 'firing' | 'all';
  @IsOptional()
  @Matches(/^\d{1,4}$/, { message: 'resolved_within_hours must be a number of hours from 1 to 2160' })
  resolved_within_hours?: string;
  @IsOptional() @Matches(/^\d{1,4}$/, { message: 'limit must be a number from 1 to 1000' }) limit?: string;
}

/** Alerts the processor evaluates (docs/alerts.md): what fires now, with its evidence and webhook deliveries. */
@ApiTags('admin')
@ApiBearerAuth()
@UseGuards(AdminGuard)
@Controller('v1/admin/alerts')
export class AlertsAdminController {
  constructor(@Inject(DataSource) private readonly ds: DataSource) {}

  @ApiResponse({
    status: 200,
    description:
      '{"alerts": [...], "count"}: firing alerts (and resolved ones with status=all), each with its rule, subject, value, threshold and evidence',
  })
  @Get()
  @ApiOperation({
    summary:
      'Firing alerts with evidence; status=all adds those resolved in the last resolved_within_hours (168)',
  })
  async list(@Query() q: AlertListQuery) {
    const limit = q.limit === undefined ? 500 : Number(q.limit);
    if (limit < 1 || limit > 1000) throw ApiError.badField('limit', 'limit must be a number from 1 to 1000');
    const hours = q.resolved_within_hours === undefined ? 168 : Number(q.resolved_within_hours);
    if (hours < 1 || hours > 2160)
      throw ApiError.badField('resolved_within_hours', 'resolved_within_hours must be from 1 to 2160');
    const alerts = await listAlerts(this.ds.manager, {
      status: q.status ?? 'firing',
      resolvedWithinHours: hours,
      limit,
    });
    return { alerts, count: alerts.length };
  }
}
